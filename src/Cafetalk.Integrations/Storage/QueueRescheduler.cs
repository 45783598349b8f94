namespace Cafetalk.Integrations.Storage;

/// <summary>
/// Puts a message back on its queue, invisible until a given time: for work that must wait (a provider's daily
/// limit, a booking another instance holds) and must neither be retried hot nor poisoned.
/// </summary>
public sealed class QueueRescheduler(StorageAccount storage, TimeProvider time)
{
    /// <summary>Azure Storage queues hide a message for at most 7 days.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromDays(7) - TimeSpan.FromSeconds(1);

    /// <summary>Enqueues <paramref name="message"/> on <paramref name="queueName"/> to appear at <paramref name="notBeforeUtc"/>; returns the delay used.</summary>
    public async Task<TimeSpan> RescheduleAsync(string queueName, string message, DateTimeOffset notBeforeUtc, CancellationToken cancellationToken = default)
    {
        var delay = notBeforeUtc - time.GetUtcNow();
        delay = delay < TimeSpan.Zero ? TimeSpan.Zero : delay > MaxDelay ? MaxDelay : delay;
        // A time to live of -1 keeps the message until it is handled, however long it waited.
        await storage.Queue(queueName).SendMessageAsync(message, delay, TimeSpan.FromSeconds(-1), cancellationToken);
        return delay;
    }
}
