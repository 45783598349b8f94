using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>
/// Handles <c>calendar-changes</c>: marks the lecturer's sync started (a notification after this asks for another),
/// then runs that one calendar's incremental sync, which restores our events and tells the lecturer
/// (<c>com.cafetalk.booking.changed-outside</c>). A lecturer no longer connected ends the message; failures throw and retry.
/// </summary>
public sealed class CalendarChangeSync(CalendarNightlySync sync, CalendarWatchChannels channels, QueueMessageRunner runner, TimeProvider time)
{
    public Task<CalendarSyncReport?> HandleAsync(string message, string? messageId, CancellationToken cancellationToken = default) =>
        runner.RunAsync<CalendarChangeRequest, CalendarSyncReport?>(QueueNames.CalendarChanges, message, messageId, CalendarChangeRequest.Read, SyncAsync, cancellationToken: cancellationToken);

    private async Task<CalendarSyncReport?> SyncAsync(QueueMessage<CalendarChangeRequest> message, CancellationToken cancellationToken)
    {
        await channels.MarkSyncStartedAsync(message.Value.LecturerId, time.GetUtcNow(), cancellationToken);
        return await sync.SyncOneAsync(message.Value.LecturerId, message.CorrelationId, cancellationToken);
    }
}
