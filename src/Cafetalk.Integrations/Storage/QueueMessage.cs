namespace Cafetalk.Integrations.Storage;

/// <summary>One queue message that read: its value, the id it is traced by, and the way back onto its queue for work that must wait.</summary>
public sealed class QueueMessage<T>(string queue, string text, T value, string correlationId, QueueRescheduler rescheduler)
{
    public string Queue => queue;

    public T Value => value;

    /// <summary>The id its logs, ledger rows and poison entry are filed under.</summary>
    public string CorrelationId => correlationId;

    /// <summary>Puts this message back on its queue, invisible until <paramref name="notBeforeUtc"/>: waiting work is neither retried hot nor poisoned.</summary>
    public Task RetryAtAsync(DateTimeOffset notBeforeUtc, CancellationToken cancellationToken = default) =>
        rescheduler.RescheduleAsync(queue, text, notBeforeUtc, cancellationToken);
}
