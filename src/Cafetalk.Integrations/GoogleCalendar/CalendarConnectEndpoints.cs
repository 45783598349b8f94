using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.GoogleCalendar.Api;
using Cafetalk.Integrations.Http;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>
/// The HTTP side of connecting a lecturer's Google Calendar, shared by the Functions app and the local server:
/// connect (ticket → one-time state + cookie + PKCE → Google), callback (state, cookie, code → tokens, calendar,
/// backfill, page) and disconnect (revoke, delete).
/// </summary>
public sealed class CalendarConnectEndpoints(
    ConnectTickets tickets,
    CalendarConnectStates states,
    CalendarConnections connections,
    GoogleAuthorization authorization,
    CalendarClientFactory clients,
    GoogleDisclosures disclosures,
    CalendarDisconnection disconnection,
    SubjectRegistry subjects,
    StorageAccount storage,
    IOptions<GoogleCalendarOptions> options,
    TimeProvider time,
    ILogger<CalendarConnectEndpoints> logger)
{
    public const string ConnectRoute = "calendar/connect";
    public const string CallbackRoute = "calendar/callback";
    public const string DisconnectRoute = "calendar/disconnect";
    private const string ProblemBase = "https://cafetalk.com/problems/calendar/";
    private const int MaxStateLength = 64;

    /// <summary><c>{"lecturerId": "…"}</c> is a few dozen bytes; this leaves room and nothing more.</summary>
    public const int MaxDisconnectBodyBytes = 4 * 1024;

    public async Task<IActionResult> ConnectAsync(HttpRequest request)
    {
        var language = Language(request);
        if (tickets.Verify(request.Query["ticket"]) is not { } lecturerId)
        {
            return Page(request, StatusCodes.Status400BadRequest, CalendarPage.InvalidLink, language);
        }

        await storage.EnsureProvisionedAsync(request.HttpContext.RequestAborted);
        if (await subjects.IsErasedAsync(lecturerId, request.HttpContext.RequestAborted))
        {
            // An erased lecturer's ticket connects nothing: no token, no calendar, no disclosure is made for them again.
            logger.LogWarning("Calendar connect refused: the ticket names an erased member");
            return Page(request, StatusCodes.Status410Gone, CalendarPage.InvalidLink, language);
        }

        var state = Random();
        var cookie = Random();
        var consent = authorization.CreateAuthorizationRequest(state);
        var lifetime = options.Value.StateLifetime;
        await states.SaveAsync(state, new ConnectState(lecturerId, consent.CodeVerifier, Hash(cookie), time.GetUtcNow() + lifetime), request.HttpContext.RequestAborted);
        // __Host-: Secure, Path=/, no Domain. Lax, because Google's redirect back is a top-level cross-site GET.
        request.HttpContext.Response.Cookies.Append(options.Value.StateCookieName, cookie, new CookieOptions
        {
            Secure = true,
            HttpOnly = true,
            SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Lax,
            Path = "/",
            MaxAge = lifetime,
            IsEssential = true,
        });
        Harden(request.HttpContext.Response);
        logger.LogInformation("Lecturer {LecturerId} sent to Google consent", lecturerId);
        return new RedirectResult(consent.Url.ToString(), permanent: false);
    }

    public async Task<IActionResult> CallbackAsync(HttpRequest request)
    {
        var language = Language(request);
        var cancellationToken = request.HttpContext.RequestAborted;
        var cookie = request.Cookies[options.Value.StateCookieName];
        // One try per state: whatever happens below, this browser's cookie is spent.
        request.HttpContext.Response.Cookies.Delete(options.Value.StateCookieName, new CookieOptions { Secure = true, Path = "/", SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Lax, HttpOnly = true });
        string state = request.Query["state"].ToString();
        if (state.Length is 0 or > MaxStateLength || state.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not '-' and not '_'))
        {
            return Page(request, StatusCodes.Status400BadRequest, CalendarPage.SessionMismatch, language);
        }

        await storage.EnsureProvisionedAsync(cancellationToken);
        var pending = await states.TakeAsync(state, cancellationToken);
        if (pending is null || pending.ExpiresAtUtc <= time.GetUtcNow())
        {
            logger.LogWarning("Calendar callback refused: state unknown, used or expired");
            return Page(request, StatusCodes.Status400BadRequest, CalendarPage.SessionMismatch, language);
        }

        if (string.IsNullOrEmpty(cookie) || !CryptographicOperations.FixedTimeEquals(Hash(cookie), pending.CookieHash))
        {
            logger.LogWarning("Calendar callback for lecturer {LecturerId} refused: the state cookie is missing or not this state's", pending.LecturerId);
            return Page(request, StatusCodes.Status400BadRequest, CalendarPage.SessionMismatch, language);
        }

        var error = request.Query["error"].ToString();
        if (error.Length > 0)
        {
            var denied = error == "access_denied";
            logger.LogInformation("Lecturer {LecturerId} {Outcome} at Google", pending.LecturerId, denied ? "declined consent" : "could not consent");
            return Page(request, StatusCodes.Status200OK, denied ? CalendarPage.Denied : CalendarPage.Failed, language);
        }

        var code = request.Query["code"].ToString();
        if (code.Length is 0 or > 2048)
        {
            return Page(request, StatusCodes.Status400BadRequest, CalendarPage.SessionMismatch, language);
        }

        if (await subjects.IsErasedAsync(pending.LecturerId, cancellationToken))
        {
            logger.LogWarning("Calendar callback refused: the lecturer was erased while consenting");
            return Page(request, StatusCodes.Status410Gone, CalendarPage.InvalidLink, language);
        }

        return await CompleteAsync(request, pending.LecturerId, code, pending.CodeVerifier, language, cancellationToken);
    }

    public async Task<IActionResult> DisconnectAsync(HttpRequest request)
    {
        var cancellationToken = request.HttpContext.RequestAborted;
        var read = await RequestBody.ReadAsync(request, MaxDisconnectBodyBytes, time, cancellationToken);
        switch (read.Outcome)
        {
            case BodyReadOutcome.TooLarge:
                return Problem(StatusCodes.Status413PayloadTooLarge, "too-large", $"The body is over {MaxDisconnectBodyBytes} bytes.");
            case BodyReadOutcome.TooSlow:
                return Problem(StatusCodes.Status408RequestTimeout, "too-slow", "The body did not arrive in time.");
            case BodyReadOutcome.Unreadable:
                return Problem(StatusCodes.Status400BadRequest, "bad-body", "The body could not be read.");
        }

        string? lecturerId;
        try
        {
            // A UTF-8 byte order mark before JSON is allowed to be ignored (RFC 8259 §8.1); the reader would refuse it.
            var bytes = read.Bytes.Span.StartsWith("\uFEFF"u8) ? read.Bytes[3..] : read.Bytes;
            using var body = JsonDocument.Parse(bytes);
            lecturerId = body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("lecturerId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a string System.Text.Json cannot return as text ("\ud800" escapes an unpaired surrogate).
            lecturerId = null;
        }

        if (!BookingEventParser.IsValidId(lecturerId))
        {
            return Problem(StatusCodes.Status400BadRequest, "bad-body", "Send {\"lecturerId\": \"...\"} as JSON.");
        }

        await storage.EnsureProvisionedAsync(cancellationToken);
        CalendarConnection? connection;
        try
        {
            connection = await connections.FindAsync(lecturerId!, cancellationToken);
        }
        catch (FieldProtectionException)
        {
            logger.LogError("Calendar connection of lecturer {LecturerId} does not open for its row; nothing was changed", lecturerId);
            return Problem(StatusCodes.Status409Conflict, "connection-unreadable", "The stored authorization does not belong to this lecturer's row; nothing was changed.");
        }

        if (connection is null)
        {
            return new OkObjectResult(new { status = "not-connected" });
        }

        try
        {
            await disconnection.DisconnectAsync(connection, Guid.NewGuid().ToString("N"), cancellationToken);
        }
        catch (Exception ex) when (ex is GoogleAuthorizationException or HttpRequestException)
        {
            return Problem(StatusCodes.Status502BadGateway, "revoke-failed", "Google did not confirm the revocation; nothing was deleted. Try again.");
        }

        return new OkObjectResult(new { status = "disconnected" });
    }

    private async Task<IActionResult> CompleteAsync(HttpRequest request, string lecturerId, string code, string verifier, string language, CancellationToken cancellationToken)
    {
        var consentId = Guid.NewGuid().ToString("N");
        var correlationId = Guid.NewGuid().ToString("N");
        GrantedTokens granted;
        try
        {
            granted = await authorization.ExchangeCodeAsync(lecturerId, code, verifier, $"google-consent:{consentId}", correlationId, cancellationToken);
        }
        catch (Exception ex) when (ex is GoogleAuthorizationException or HttpRequestException or TaskCanceledException)
        {
            logger.LogWarning("Code exchange for lecturer {LecturerId} failed ({Reason})", lecturerId, ex is GoogleAuthorizationException g ? g.Error : ex.GetType().Name);
            return Page(request, StatusCodes.Status502BadGateway, CalendarPage.Failed, language);
        }

        var scopes = (granted.Scope ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (!scopes.Contains(GoogleCalendarOptions.Scope, StringComparer.Ordinal) || granted.RefreshToken is null)
        {
            var shortfall = granted.RefreshToken is null ? "no offline access" : "without the calendar scope";
            logger.LogWarning("Lecturer {LecturerId} granted {Reason}; the grant is revoked and nothing is stored", lecturerId, shortfall);
            await RevokeUnwantedAsync(lecturerId, granted, consentId, correlationId);
            return Page(request, StatusCodes.Status400BadRequest, CalendarPage.ScopeMissing, language);
        }

        Calendar calendar;
        try
        {
            using var client = clients.Create(granted.AccessToken);
            var context = DisclosureContext.WithoutPersonalData(disclosures.Purpose(DisclosurePolicy.PurposeIds.GoogleLessonCalendar));
            calendar = await client.InsertCalendarAsync(new Calendar { Summary = options.Value.CalendarSummary }, context, cancellationToken);
        }
        catch (Exception ex) when (ex is CalendarApiException or HttpRequestException or TaskCanceledException)
        {
            logger.LogWarning("Creating the calendar of lecturer {LecturerId} failed ({Reason}); the grant is revoked", lecturerId, ex.GetType().Name);
            await RevokeUnwantedAsync(lecturerId, granted, consentId, correlationId);
            return Page(request, StatusCodes.Status502BadGateway, CalendarPage.Failed, language);
        }

        await connections.SaveAsync(lecturerId, granted.RefreshToken, calendar.Id!, consentId, time.GetUtcNow(), cancellationToken);
        var queued = await BackfillAsync(lecturerId, cancellationToken);
        logger.LogInformation("Lecturer {LecturerId} connected Google Calendar; {Bookings} upcoming booking(s) queued", lecturerId, queued);
        return Page(request, StatusCodes.Status200OK, CalendarPage.Connected, language);
    }

    /// <summary>Queues a converge for each of the lecturer's upcoming confirmed bookings.</summary>
    private async Task<int> BackfillAsync(string lecturerId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {lecturerId} and Status eq {nameof(BookingStatus.Confirmed)} and StartsAtUtc ge {now} and StartsAtUtc le {now + options.Value.BackfillHorizon}");
        var queue = storage.Queue(QueueNames.CalendarConverge);
        var count = 0;
        await foreach (var row in storage.Table(TableNames.Bookings).QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            await queue.SendMessageAsync(new ConvergeRequest(row.PartitionKey, row.RowKey).ToJson(), cancellationToken);
            count++;
        }

        return count;
    }

    private async Task RevokeUnwantedAsync(string lecturerId, GrantedTokens granted, string consentId, string correlationId)
    {
        try
        {
            var token = granted.RefreshToken ?? granted.AccessToken;
            await authorization.RevokeAsync(new CalendarConnection(lecturerId, ConnectionStatus.Revoked, token, string.Empty, consentId, time.GetUtcNow(), null, default),
                correlationId, CancellationToken.None);
        }
        catch (Exception ex) when (ex is GoogleAuthorizationException or HttpRequestException)
        {
            logger.LogWarning("Revoking an unusable grant of lecturer {LecturerId} failed ({Reason})", lecturerId, ex.GetType().Name);
        }
    }

    private static string Language(HttpRequest request) => NewsletterPages.ChooseLanguage(request.Headers.AcceptLanguage, request.Query["lang"]);

    private static string Random() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    private static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));

    private static ContentResult Page(HttpRequest request, int status, CalendarPage page, string language)
    {
        Harden(request.HttpContext.Response);
        return new ContentResult { StatusCode = status, ContentType = "text/html; charset=utf-8", Content = CalendarPages.Render(page, language) };
    }

    private static ObjectResult Problem(int status, string type, string detail) => new(new ProblemDetails
    {
        Type = ProblemBase + type,
        Title = "Calendar request refused",
        Status = status,
        Detail = detail,
    })
    {
        StatusCode = status,
        ContentTypes = { "application/problem+json" },
    };

    /// <summary>Codes and states sit in URLs: never cache, never send them on as a Referer, never be framed.</summary>
    private static void Harden(HttpResponse response)
    {
        response.Headers[HeaderNames.CacheControl] = "no-store";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers[HeaderNames.XContentTypeOptions] = "nosniff";
        response.Headers[HeaderNames.ContentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";
    }
}
