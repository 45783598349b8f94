using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.GoogleCalendar.Api;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>
/// Ends a lecturer's Google connection: deletes the "Cafetalk lessons" calendar, revokes the grant at Google, then
/// deletes the stored token. Shared by <c>POST /api/calendar/disconnect</c> and erasure.
/// </summary>
public sealed class CalendarDisconnection(
    CalendarConnections connections,
    GoogleAuthorization authorization,
    CalendarClientFactory clients,
    GoogleDisclosures disclosures,
    ILogger<CalendarDisconnection> logger)
{
    /// <summary>Throws <see cref="GoogleAuthorizationException"/> or <see cref="HttpRequestException"/> when Google did not confirm the revocation; nothing is deleted then.</summary>
    public async Task DisconnectAsync(CalendarConnection connection, string correlationId, CancellationToken cancellationToken = default)
    {
        await DeleteCalendarAsync(connection, correlationId, cancellationToken);
        try
        {
            await authorization.RevokeAsync(connection, correlationId, cancellationToken);
        }
        catch (Exception ex) when (ex is GoogleAuthorizationException or HttpRequestException)
        {
            logger.LogWarning("Revoking the Google grant of lecturer {LecturerId} failed ({Reason}); try the disconnect again", connection.LecturerId, ex.GetType().Name);
            throw;
        }

        await connections.DeleteAsync(connection.LecturerId, cancellationToken);
        logger.LogInformation("Lecturer {LecturerId} disconnected Google Calendar", connection.LecturerId);
    }

    private async Task DeleteCalendarAsync(CalendarConnection connection, string correlationId, CancellationToken cancellationToken)
    {
        if (connection.Status != ConnectionStatus.Connected)
        {
            return;
        }

        try
        {
            var token = await authorization.GetAccessTokenAsync(connection, correlationId, cancellationToken);
            using var client = clients.Create(token);
            var context = DisclosureContext.WithoutPersonalData(disclosures.Purpose(DisclosurePolicy.PurposeIds.GoogleLessonCalendar));
            await client.DeleteCalendarAsync(connection.CalendarId, context, cancellationToken);
        }
        catch (Exception ex) when (ex is GoogleAuthorizationException or CalendarApiException or HttpRequestException)
        {
            // The grant is revoked next either way; the calendar stays in the lecturer's account for them to remove.
            logger.LogWarning("Deleting the Cafetalk calendar of lecturer {LecturerId} failed ({Reason}); revoking anyway", connection.LecturerId, ex.GetType().Name);
        }
    }
}
