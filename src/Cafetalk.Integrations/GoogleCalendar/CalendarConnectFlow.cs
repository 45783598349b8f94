using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Http;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>
/// The first hop of connecting a lecturer's Google Calendar, as plain inputs in and <see cref="FlowOutcome"/>s out (the
/// HTTP adapter reads the request and writes the answer): ticket → one-time state + cookie + PKCE → Google; when a
/// connection exists, first a confirmation page whose POST form carries a one-time token. The way back is
/// <see cref="CalendarCallbackFlow"/>; the site's disconnect is <see cref="CalendarDisconnectFlow"/>.
/// </summary>
public sealed class CalendarConnectFlow(
    ConnectTickets tickets,
    SpentConnectTickets spentTickets,
    OneTimeFormTokens formTokens,
    CalendarConnectStates states,
    CalendarConnections connections,
    GoogleAuthorization authorization,
    SubjectRegistry subjects,
    StorageAccount storage,
    IOptions<GoogleCalendarOptions> options,
    TimeProvider time,
    ILogger<CalendarConnectFlow> logger)
{
    public const string ConnectRoute = "calendar/connect";
    private const string ProblemBase = "https://cafetalk.com/problems/calendar/";
    private const string ReplacePurpose = "calendar-replace";

    /// <summary>The confirmation form: a ticket (at most 300 characters) and a 43-character token, urlencoded.</summary>
    public const int MaxConfirmBodyBytes = 2 * 1024;

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

        var (existing, unreadable) = await connections.FindReadableAsync(ticket.LecturerId, logger, cancellationToken);
        return unreadable ? (null, null, Page(409, CalendarPage.Failed, language)) : (ticket, existing, null);
    }

    private static string ReplaceBinding(ConnectTicket ticket, string? consentId) => $"{ticket.TicketId}/{consentId}";

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

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
