using System.Security.Cryptography;
using System.Text;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.GoogleCalendar.Api;
using Cafetalk.Integrations.Http;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>
/// The way back from Google's consent, as plain inputs in and <see cref="FlowOutcome"/>s out: state, cookie, ticket
/// spent once, code → tokens; a replaced connection's calendar deleted and grant revoked; new calendar, backfill, page.
/// </summary>
public sealed class CalendarCallbackFlow(
    SpentConnectTickets spentTickets,
    CalendarConnectStates states,
    CalendarConnections connections,
    GoogleAuthorization authorization,
    CalendarClientFactory clients,
    GoogleDisclosures disclosures,
    CalendarDisconnection disconnection,
    SubjectRegistry subjects,
    StorageAccount storage,
    SiteNotifier notifier,
    CalendarWatches watches,
    IOptions<GoogleCalendarOptions> options,
    TimeProvider time,
    ILogger<CalendarCallbackFlow> logger)
{
    public const string CallbackRoute = "calendar/callback";
    private const int MaxStateLength = 64;

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

    private async Task<FlowOutcome> CompleteAsync(ConnectState pending, string code, string language, CancellationToken cancellationToken)
    {
        var lecturerId = pending.LecturerId;
        var (existing, unreadable) = await connections.FindReadableAsync(lecturerId, logger, cancellationToken);
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
        await watches.OpenOnConnectAsync(lecturerId, calendar.Id!, granted.AccessToken, cancellationToken);
        var queued = await BackfillAsync(lecturerId, cancellationToken);
        await notifier.PublishAsync(SiteNotificationTypes.CalendarConnected,
            new Dictionary<string, object?> { ["lecturerId"] = lecturerId, ["correlationId"] = correlationId }, cancellationToken);
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

    private static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));

    private static FlowOutcome.Page Page(int status, CalendarPage page, string language) => new(status, CalendarPages.Render(page, language));
}
