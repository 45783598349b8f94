using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>
/// Handles <c>calendar-changes</c>: marks the lecturer's sync started (a notification after this asks for another),
/// then runs that one calendar's incremental sync, which restores our events and tells the lecturer
/// (<c>com.cafetalk.booking.changed-outside</c>). A lecturer no longer connected ends the message; failures throw and retry.
/// </summary>
public sealed class CalendarChangeSync(CalendarNightlySync sync, CalendarConnections connections, CalendarWatchChannels channels, QueueMessageRunner runner, StorageAccount storage, TimeProvider time)
{
    public Task<CalendarSyncReport?> HandleAsync(string message, string? messageId, CancellationToken cancellationToken = default) =>
        runner.RunAsync<CalendarChangeRequest, CalendarSyncReport?>(QueueNames.CalendarChanges, message, messageId, CalendarChangeRequest.Read, SyncAsync, cancellationToken: cancellationToken);

    private async Task<CalendarSyncReport?> SyncAsync(QueueMessage<CalendarChangeRequest> message, CancellationToken cancellationToken)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        if (await connections.FindAsync(message.Value.LecturerId, cancellationToken) is not { Status: ConnectionStatus.Connected } connection)
        {
            return null; // disconnected or revoked since: nothing to sync, nothing written
        }

        await channels.MarkSyncStartedAsync(connection.LecturerId, time.GetUtcNow(), cancellationToken);
        return await sync.SyncConnectedAsync(connection, message.CorrelationId, cancellationToken);
    }
}
