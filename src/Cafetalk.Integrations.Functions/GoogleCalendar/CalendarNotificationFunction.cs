using Cafetalk.Integrations.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Cafetalk.Integrations.Functions.GoogleCalendar;

/// <summary>
/// <c>POST /api/google/calendar-notifications</c>: Google's push notification (headers, no body) mapped to the core
/// check. Anonymous, since Google sends no function key: the per-channel token is the credential.
/// </summary>
public sealed class CalendarNotificationFunction(CalendarNotifications notifications, TimeProvider time)
{
    public const string ProblemTypeBase = "https://cafetalk.com/problems/google-calendar-notification/";

    [Function(nameof(CalendarNotificationFunction))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = CalendarNotifications.Route)] HttpRequest request,
        CancellationToken cancellationToken)
    {
        // Read (and drop) what a caller sent, so an oversized body is refused like on every other route.
        var body = await RequestBody.ReadAsync(request, CalendarNotifications.MaxBodyBytes, time, cancellationToken);
        if (body.Refusal(CalendarNotifications.MaxBodyBytes) is { } refused)
        {
            return Problem(refused.Status, refused.Type, refused.Detail);
        }

        string? Header(string name) => request.Headers.TryGetValue(name, out var value) ? value.ToString() : null;
        var outcome = await notifications.ReceiveAsync(new CalendarNotification(
            Header(CalendarNotification.ChannelIdHeader), Header(CalendarNotification.ChannelTokenHeader), Header(CalendarNotification.ResourceIdHeader),
            Header(CalendarNotification.ResourceStateHeader), Header(CalendarNotification.MessageNumberHeader)), cancellationToken);
        return outcome switch
        {
            CalendarNotificationOutcome.BadRequest => Problem(StatusCodes.Status400BadRequest, "bad-headers", "The X-Goog-Channel-ID, X-Goog-Resource-ID or X-Goog-Resource-State header is missing or malformed."),
            // One answer for an unknown channel and a wrong token, so neither is confirmed to a caller.
            CalendarNotificationOutcome.Refused => Problem(StatusCodes.Status401Unauthorized, "unverified", "The notification does not match a channel we opened."),
            _ => new OkObjectResult(new { status = outcome.ToString().ToLowerInvariant() }),
        };
    }

    private static ObjectResult Problem(int status, string type, string detail) => FlowResponses.Problem(status, ProblemTypeBase + type, "Calendar notification refused", detail);
}
