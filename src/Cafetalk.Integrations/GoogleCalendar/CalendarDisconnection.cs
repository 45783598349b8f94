using System.Net;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.GoogleCalendar.Api;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>Why a lecturer's "Cafetalk lessons" calendar could not be deleted.</summary>
public enum CalendarRemovalFailure
{
    /// <summary>The lecturer withdrew our access at Google: we can no longer reach the calendar, now or later.</summary>
    GrantRevoked,
    /// <summary>Google failed or did not answer: a later attempt may succeed.</summary>
    GoogleFailed,
}

/// <summary>
/// The calendar was not deleted, so nothing else was done: the grant is not revoked and the stored connection is kept,
/// because revoking would leave the calendar (and its join links) out of our reach for good. The message holds the
/// reason and the failure's type, never a value.
/// </summary>
public sealed class CalendarRemovalException(CalendarRemovalFailure failure, string detail, Exception? inner = null)
    : Exception($"The Cafetalk calendar was not deleted ({failure}: {detail}); the grant was not revoked.", inner)
{
    public CalendarRemovalFailure Failure { get; } = failure;

    public string Detail { get; } = detail;
}

/// <summary>
/// Ends a lecturer's Google connection: deletes the "Cafetalk lessons" calendar (with every lesson event in it),
/// revokes the grant at Google (on the ledger), then deletes the stored token. Each step runs only when the one before
/// it succeeded. Shared by <c>POST /api/calendar/disconnect</c>, a reconnect that replaces the connection, and erasure.
/// </summary>
public sealed class CalendarDisconnection(
    CalendarConnections connections,
    GoogleAuthorization authorization,
    CalendarClientFactory clients,
    GoogleDisclosures disclosures,
    CalendarRevocations revocations,
    CalendarWatches watches,
    ILogger<CalendarDisconnection> logger)
{
    /// <summary>
    /// Calendar, grant, row, in that order. Throws <see cref="CalendarRemovalException"/> when the calendar was not
    /// deleted, <see cref="GoogleAuthorizationException"/> or <see cref="HttpRequestException"/> when Google did not
    /// confirm the revocation; the row is kept in both cases, for a retry.
    /// </summary>
    public async Task DisconnectAsync(CalendarConnection connection, string correlationId, CancellationToken cancellationToken = default)
    {
        await EndGrantAsync(connection, correlationId, cancellationToken);
        await connections.DeleteAsync(connection.LecturerId, cancellationToken);
        logger.LogInformation("Lecturer {LecturerId} disconnected Google Calendar", connection.LecturerId);
    }

    /// <summary>Deletes the calendar, then revokes the grant; the stored row is left to the caller (a reconnect replaces it).</summary>
    public async Task EndGrantAsync(CalendarConnection connection, string correlationId, CancellationToken cancellationToken = default)
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
    }

    /// <summary>Revokes a grant whose calendar we can no longer reach (the lecturer revoked it already), and deletes the row.</summary>
    public async Task ForgetRevokedAsync(CalendarConnection connection, string correlationId, CancellationToken cancellationToken = default)
    {
        await authorization.RevokeAsync(connection, correlationId, cancellationToken);
        await watches.ForgetAllAsync(connection.LecturerId, cancellationToken);
        await connections.DeleteAsync(connection.LecturerId, cancellationToken);
        logger.LogWarning("Lecturer {LecturerId} disconnected a revoked Google connection; their Cafetalk calendar stays in their Google account", connection.LecturerId);
    }

    private async Task DeleteCalendarAsync(CalendarConnection connection, string correlationId, CancellationToken cancellationToken)
    {
        if (connection.Status != ConnectionStatus.Connected)
        {
            throw new CalendarRemovalException(CalendarRemovalFailure.GrantRevoked, "the connection is marked revoked");
        }

        string token;
        try
        {
            token = await authorization.GetAccessTokenAsync(connection, correlationId, cancellationToken);
        }
        catch (GoogleAuthorizationException ex) when (ex.IsRevoked)
        {
            await revocations.MarkRevokedAsync(connection, correlationId, cancellationToken);
            throw new CalendarRemovalException(CalendarRemovalFailure.GrantRevoked, "Google answered invalid_grant", ex);
        }
        catch (Exception ex) when (ex is GoogleAuthorizationException or HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw Failed(connection, ex);
        }

        try
        {
            using var client = clients.Create(token);
            // The calendar id is Google's opaque id of a calendar we created: no personal data, so no ledger row.
            var context = DisclosureContext.WithoutPersonalData(disclosures.Purpose(DisclosurePolicy.PurposeIds.GoogleLessonCalendar));
            // The channels first: stopped while we still hold the grant, so Google stops posting about this calendar.
            await watches.StopAllAsync(client, connection.LecturerId, cancellationToken);
            var existed = await client.DeleteCalendarAsync(connection.CalendarId, context, cancellationToken);
            logger.LogInformation("Cafetalk calendar of lecturer {LecturerId} deleted (it {Existed})", connection.LecturerId, existed ? "existed" : "was already gone");
        }
        catch (Exception ex) when (ex is CalendarApiException or HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            if (ex is CalendarApiException { Status: HttpStatusCode.Unauthorized })
            {
                // A refused access token: the retry refreshes, and a revoked grant then shows as invalid_grant.
                authorization.Forget(connection.LecturerId);
            }

            throw Failed(connection, ex);
        }
    }

    private CalendarRemovalException Failed(CalendarConnection connection, Exception ex)
    {
        var detail = ex is CalendarApiException api ? $"calendars.delete answered HTTP {(int)api.Status}" : ex.GetType().Name;
        logger.LogWarning("Deleting the Cafetalk calendar of lecturer {LecturerId} failed ({Reason}); the grant is kept for a retry", connection.LecturerId, detail);
        return new CalendarRemovalException(CalendarRemovalFailure.GoogleFailed, detail, ex);
    }
}
