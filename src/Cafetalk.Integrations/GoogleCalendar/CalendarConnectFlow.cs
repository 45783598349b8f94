using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.GoogleCalendar.Api;
using Cafetalk.Integrations.Http;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>
/// Connecting a lecturer's Google Calendar, as plain inputs in and <see cref="FlowOutcome"/>s out (the HTTP adapter
/// reads the request and writes the answer): connect (ticket → one-time state + cookie + PKCE → Google; when a
/// connection exists, first a confirmation page whose POST form carries a one-time token), callback (state, cookie,
/// ticket spent once, code → tokens; a replaced connection's calendar deleted and grant revoked; new calendar,
/// backfill, page) and disconnect (calendar, grant, row).
/// </summary>
public sealed class CalendarConnectFlow(
    ConnectTickets tickets,
    SpentConnectTickets spentTickets,
    OneTimeFormTokens formTokens,
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
    ILogger<CalendarConnectFlow> logger)
{
    public const string ConnectRoute = "calendar/connect";
    public const string CallbackRoute = "calendar/callback";
    public const string DisconnectRoute = "calendar/disconnect";
    private const string ProblemBase = "https://cafetalk.com/problems/calendar/";
    private const int MaxStateLength = 64;
    private const string ReplacePurpose = "calendar-replace";

    /// <summary>The confirmation form: a ticket (at most 300 characters) and a 43-character token, urlencoded.</summary>
    public const int MaxConfirmBodyBytes = 2 * 1024;

    /// <summary><c>{"lecturerId": "…"}</c> is a few dozen bytes; this leaves room and nothing more.</summary>
    public const int MaxDisconnectBodyBytes = 4 * 1024;

    /// <summary>GET connect with the site's <paramref name="ticketValue"/>: Google's consent, or first the page that confirms replacing a connection.</summary>
    public async Task<FlowOutcome> ConnectAsync(string? ticketValue, string language, CancellationToken cancellationToken = default)
    {
        var (ticket, existing, refusal) = await CheckTicketAsync(ticketValue, language, cancellationToken);
        if (ticket is null)
        {
            return refusal!;
        }

        if (existing is null)
        {
            return await StartConsentAsync(ticket, null, afterPost: false, cancellationToken);
        }

        // Replacing a connection deletes its calendar and revokes its grant: the lecturer says so on our page first.
        var lifetime = Min(options.Value.ReplaceConfirmationLifetime, ticket.ExpiresAtUtc - time.GetUtcNow());
        var confirm = await formTokens.IssueAsync(ReplacePurpose, ReplaceBinding(ticket, existing.ConsentId), lifetime, cancellationToken);
        logger.LogInformation("Lecturer {LecturerId} asked to confirm replacing their Google connection", ticket.LecturerId);
        return Page(200, CalendarPage.ConfirmReplace, language, ticketValue, confirm);
    }

    /// <summary>
    /// POST connect: the confirmation page's form. Only from our own origin (<paramref name="fromOurOwnPage"/>: Sec-Fetch-Site /
    /// Origin), only with the one-time token the page was rendered with, bound to this ticket and to the connection shown;
    /// then as GET connect.
    /// </summary>
    public async Task<FlowOutcome> ConfirmReplaceAsync(PostedForm form, bool fromOurOwnPage, string language, CancellationToken cancellationToken = default)
    {
        if (form.BodyRefusal(MaxConfirmBodyBytes) is { } refused)
        {
            return Problem(refused.Status, refused.Type, refused.Detail);
        }

        if (!fromOurOwnPage)
        {
            logger.LogWarning("Calendar replace confirmation refused: not posted from our own page");
            return Page(403, CalendarPage.ConfirmationRefused, language);
        }

        if (form.Outcome == PostedFormOutcome.NotAForm)
        {
            return Page(415, CalendarPage.ConfirmationRefused, language);
        }

        var (ticket, existing, refusal) = await CheckTicketAsync(form["ticket"], language, cancellationToken);
        if (ticket is null || form.Outcome != PostedFormOutcome.Read)
        {
            return refusal ?? Page(400, CalendarPage.InvalidLink, language);
        }

        var confirmed = await formTokens.RedeemAsync(form["confirm"], ReplacePurpose, ReplaceBinding(ticket, existing?.ConsentId), cancellationToken);
        if (!confirmed)
        {
            logger.LogWarning("Calendar replace confirmation of lecturer {LecturerId} refused: the one-time token is missing, used, expired or for another connection", ticket.LecturerId);
            return Page(403, CalendarPage.ConfirmationRefused, language);
        }

        return await StartConsentAsync(ticket, existing!.ConsentId, afterPost: true, cancellationToken);
    }

    private async Task<FlowOutcome> StartConsentAsync(ConnectTicket ticket, string? replacesConsentId, bool afterPost, CancellationToken cancellationToken)
    {
        var state = Random();
        var cookie = Random();
        var consent = authorization.CreateAuthorizationRequest(state);
        var lifetime = options.Value.StateLifetime;
        await states.SaveAsync(state, new ConnectState(ticket.LecturerId, consent.CodeVerifier, Hash(cookie), time.GetUtcNow() + lifetime,
            ticket.TicketId, ticket.ExpiresAtUtc, replacesConsentId), cancellationToken);
        logger.LogInformation("Lecturer {LecturerId} sent to Google consent{Replacing}", ticket.LecturerId, replacesConsentId is null ? string.Empty : " (replacing the connection, confirmed)");
        // __Host-: Secure, Path=/, no Domain (the adapter's cookie). Lax, because Google's redirect back is a top-level cross-site GET.
        return new FlowOutcome.Redirect(consent.Url, afterPost) { Cookie = new FlowCookie(options.Value.StateCookieName, cookie, lifetime) };
    }

    /// <summary>A genuine, unspent ticket and the lecturer's current connection, or the page that refuses the request.</summary>
    private async Task<(ConnectTicket? Ticket, CalendarConnection? Existing, FlowOutcome? Refusal)> CheckTicketAsync(string? value, string language, CancellationToken cancellationToken)
    {
        if (tickets.Read(value) is not { } ticket)
        {
            return (null, null, Page(400, CalendarPage.InvalidLink, language));
        }

        await storage.EnsureProvisionedAsync(cancellationToken);
        if (await subjects.IsErasedAsync(ticket.LecturerId, cancellationToken))
        {
            // An erased lecturer's ticket connects nothing: no token, no calendar, no disclosure is made for them again.
            logger.LogWarning("Calendar connect refused: the ticket names an erased member");
            return (null, null, Page(410, CalendarPage.InvalidLink, language));
        }

        if (await spentTickets.IsSpentAsync(ticket.TicketId, cancellationToken))
        {
            return (null, null, Page(400, CalendarPage.LinkUsed, language));
        }

        var (existing, unreadable) = await FindConnectionAsync(ticket.LecturerId, cancellationToken);
        return unreadable ? (null, null, Page(409, CalendarPage.Failed, language)) : (ticket, existing, null);
    }

    private async Task<(CalendarConnection? Connection, bool Unreadable)> FindConnectionAsync(string lecturerId, CancellationToken cancellationToken)
    {
        try
        {
            return (await connections.FindAsync(lecturerId, cancellationToken), false);
        }
        catch (FieldProtectionException)
        {
            logger.LogError("Calendar connection of lecturer {LecturerId} does not open for its row; nothing was changed", lecturerId);
            return (null, true);
        }
    }

    private static string ReplaceBinding(ConnectTicket ticket, string? consentId) => $"{ticket.TicketId}/{consentId}";

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>
    /// GET callback: Google sends the browser back with <paramref name="state"/> and a <paramref name="code"/> (or an
    /// <paramref name="error"/>); <paramref name="cookie"/> is the state cookie the browser holds. Every answer expires
    /// that cookie: one try per state.
    /// </summary>
    public async Task<FlowOutcome> CallbackAsync(string? cookie, string state, string error, string code, string language, CancellationToken cancellationToken = default)
    {
        var outcome = await CompleteCallbackAsync(cookie, state, error, code, language, cancellationToken);
        return outcome with { Cookie = new FlowCookie(options.Value.StateCookieName, null, TimeSpan.Zero) };
    }

    private async Task<FlowOutcome> CompleteCallbackAsync(string? cookie, string state, string error, string code, string language, CancellationToken cancellationToken)
    {
        if (state.Length is 0 or > MaxStateLength || state.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not '-' and not '_'))
        {
            return Page(400, CalendarPage.SessionMismatch, language);
        }

        await storage.EnsureProvisionedAsync(cancellationToken);
        var pending = await states.TakeAsync(state, cancellationToken);
        if (pending is null || pending.ExpiresAtUtc <= time.GetUtcNow())
        {
            logger.LogWarning("Calendar callback refused: state unknown, used or expired");
            return Page(400, CalendarPage.SessionMismatch, language);
        }

        if (string.IsNullOrEmpty(cookie) || !CryptographicOperations.FixedTimeEquals(Hash(cookie), pending.CookieHash))
        {
            logger.LogWarning("Calendar callback for lecturer {LecturerId} refused: the state cookie is missing or not this state's", pending.LecturerId);
            return Page(400, CalendarPage.SessionMismatch, language);
        }

        // One completion per ticket: of two browsers that started from the same ticket, only the first gets past here.
        if (!await spentTickets.TrySpendAsync(pending.TicketId, pending.TicketExpiresAtUtc, cancellationToken))
        {
            logger.LogWarning("Calendar callback for lecturer {LecturerId} refused: its connect ticket was already used", pending.LecturerId);
            return Page(400, CalendarPage.LinkUsed, language);
        }

        if (error.Length > 0)
        {
            var denied = error == "access_denied";
            logger.LogInformation("Lecturer {LecturerId} {Outcome} at Google", pending.LecturerId, denied ? "declined consent" : "could not consent");
            return Page(200, denied ? CalendarPage.Denied : CalendarPage.Failed, language);
        }

        if (code.Length is 0 or > 2048)
        {
            return Page(400, CalendarPage.SessionMismatch, language);
        }

        if (await subjects.IsErasedAsync(pending.LecturerId, cancellationToken))
        {
            logger.LogWarning("Calendar callback refused: the lecturer was erased while consenting");
            return Page(410, CalendarPage.InvalidLink, language);
        }

        return await CompleteAsync(pending, code, language, cancellationToken);
    }

    /// <summary>POST disconnect from the site: <c>{"lecturerId": "…"}</c> → the calendar deleted, the grant revoked, the row removed.</summary>
    public async Task<FlowOutcome> DisconnectAsync(BodyRead read, CancellationToken cancellationToken = default)
    {
        if (read.Refusal(MaxDisconnectBodyBytes) is { } refused)
        {
            return Problem(refused.Status, refused.Type, refused.Detail);
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
            return Problem(400, "bad-body", "Send {\"lecturerId\": \"...\"} as JSON.");
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
            return Problem(409, "connection-unreadable", "The stored authorization does not belong to this lecturer's row; nothing was changed.");
        }

        if (connection is null)
        {
            return new FlowOutcome.Answer(200, new { status = "not-connected" });
        }

        var correlationId = Guid.NewGuid().ToString("N");
        try
        {
            await disconnection.DisconnectAsync(connection, correlationId, cancellationToken);
        }
        catch (CalendarRemovalException ex) when (ex.Failure == CalendarRemovalFailure.GrantRevoked)
        {
            // The lecturer withdrew our access at Google: their calendar is out of our reach; forget the dead grant.
            try
            {
                await disconnection.ForgetRevokedAsync(connection, correlationId, cancellationToken);
            }
            catch (Exception revokeFailure) when (revokeFailure is GoogleAuthorizationException or HttpRequestException)
            {
                return Problem(502, "revoke-failed", "Google did not confirm the revocation; nothing was deleted. Try again.");
            }

            return new FlowOutcome.Answer(200, new { status = "disconnected", calendar = "left-in-google-account" });
        }
        catch (CalendarRemovalException)
        {
            return Problem(502, "calendar-delete-failed", "Google did not delete the Cafetalk calendar; nothing was revoked or deleted. Try again.");
        }
        catch (Exception ex) when (ex is GoogleAuthorizationException or HttpRequestException)
        {
            return Problem(502, "revoke-failed", "Google did not confirm the revocation; the calendar is deleted, the connection is kept. Try again.");
        }

        return new FlowOutcome.Answer(200, new { status = "disconnected" });
    }

    private async Task<FlowOutcome> CompleteAsync(ConnectState pending, string code, string language, CancellationToken cancellationToken)
    {
        var lecturerId = pending.LecturerId;
        var (existing, unreadable) = await FindConnectionAsync(lecturerId, cancellationToken);
        if (unreadable)
        {
            return Page(409, CalendarPage.Failed, language);
        }

        if (existing?.ConsentId != pending.ReplacesConsentId)
        {
            // A connection appeared (or changed) since the lecturer started: replacing it was never confirmed.
            logger.LogWarning("Calendar callback for lecturer {LecturerId} refused: the connection changed since the consent started; the code is not exchanged", lecturerId);
            return Page(409, CalendarPage.ConnectionChanged, language);
        }

        var consentId = Guid.NewGuid().ToString("N");
        var correlationId = Guid.NewGuid().ToString("N");
        GrantedTokens granted;
        try
        {
            granted = await authorization.ExchangeCodeAsync(lecturerId, code, pending.CodeVerifier, $"google-consent:{consentId}", correlationId, cancellationToken);
        }
        catch (Exception ex) when (ex is GoogleAuthorizationException or HttpRequestException or TaskCanceledException)
        {
            logger.LogWarning("Code exchange for lecturer {LecturerId} failed ({Reason})", lecturerId, ex is GoogleAuthorizationException g ? g.Error : ex.GetType().Name);
            return Page(502, CalendarPage.Failed, language);
        }

        var scopes = (granted.Scope ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (!scopes.Contains(GoogleCalendarOptions.Scope, StringComparer.Ordinal) || granted.RefreshToken is null)
        {
            var shortfall = granted.RefreshToken is null ? "no offline access" : "without the calendar scope";
            logger.LogWarning("Lecturer {LecturerId} granted {Reason}; the grant is revoked and nothing is stored", lecturerId, shortfall);
            await RevokeUnwantedAsync(lecturerId, granted, consentId, correlationId);
            return Page(400, CalendarPage.ScopeMissing, language);
        }

        if (existing is not null && !await EndReplacedAsync(existing, correlationId, cancellationToken))
        {
            // The old calendar (with its join links) must not be left behind: keep the old connection for a retry, drop the new grant.
            await RevokeUnwantedAsync(lecturerId, granted, consentId, correlationId);
            return Page(502, CalendarPage.Failed, language);
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
            return Page(502, CalendarPage.Failed, language);
        }

        await connections.SaveAsync(lecturerId, granted.RefreshToken, calendar.Id!, consentId, time.GetUtcNow(), cancellationToken);
        var queued = await BackfillAsync(lecturerId, cancellationToken);
        logger.LogInformation("Lecturer {LecturerId} connected Google Calendar{Replaced}; {Bookings} upcoming booking(s) queued", lecturerId, existing is null ? string.Empty : " (replacing the previous connection)", queued);
        return Page(200, CalendarPage.Connected, language);
    }

    /// <summary>
    /// Before a new grant is stored over a connection: the old calendar deleted, then the old grant revoked (on the ledger)
    /// and the row removed. A grant the lecturer already revoked cannot reach its calendar any more; it is revoked again
    /// (a no-op at Google) and replaced. False when Google failed: nothing of the old connection was given up.
    /// </summary>
    private async Task<bool> EndReplacedAsync(CalendarConnection existing, string correlationId, CancellationToken cancellationToken)
    {
        try
        {
            await disconnection.DisconnectAsync(existing, correlationId, cancellationToken);
            return true;
        }
        catch (CalendarRemovalException ex) when (ex.Failure == CalendarRemovalFailure.GrantRevoked)
        {
            try
            {
                await disconnection.ForgetRevokedAsync(existing, correlationId, cancellationToken);
                return true;
            }
            catch (Exception revokeFailure) when (revokeFailure is GoogleAuthorizationException or HttpRequestException)
            {
                return false;
            }
        }
        catch (Exception ex) when (ex is CalendarRemovalException or GoogleAuthorizationException or HttpRequestException)
        {
            logger.LogWarning("Replacing the Google connection of lecturer {LecturerId} stopped: the old calendar or grant could not be removed ({Reason})", existing.LecturerId, ex.GetType().Name);
            return false;
        }
    }

    /// <summary>Queues a converge for each of the lecturer's upcoming confirmed bookings.</summary>
    private Task<int> BackfillAsync(string lecturerId, CancellationToken cancellationToken) =>
        CalendarBackfill.QueueUpcomingAsync(storage, time.GetUtcNow(), options.Value.BackfillHorizon, lecturerId, cancellationToken);

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

    private static string Random() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    private static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));

    private FlowOutcome.Page Page(int status, CalendarPage page, string language, string? ticket = null, string? confirmToken = null) =>
        new(status, CalendarPages.Render(page, language, ticket, confirmToken))
        {
            // The confirmation form posts here, and its answer redirects to Google: form-action covers both. Other pages have no form.
            FormAction = page == CalendarPage.ConfirmReplace ? $"'self' {options.Value.AuthorizationEndpoint.GetLeftPart(UriPartial.Authority)}" : null,
        };

    private static FlowOutcome.Refused Problem(int status, string type, string detail) => new(status, new FlowProblem(ProblemBase + type, "Calendar request refused", detail));
}
