using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Storage;

/// <summary>
/// The one shell every queue handler runs in: storage provisioned, the message read, a refused one poisoned once with
/// its reason (and never retried hot), a correlation scope for the rest, then the handler's own work. A handler states
/// only how its queue's messages read and what it does with one; failures of that work throw so the host retries.
/// </summary>
public sealed class QueueMessageRunner(StorageAccount storage, PoisonQueue poison, QueueRescheduler rescheduler, ILogger<QueueMessageRunner> logger)
{
    /// <summary>
    /// Runs <paramref name="message"/> from <paramref name="queue"/>: <paramref name="handle"/> gets it when it reads, and a
    /// refused one answers <paramref name="refused"/> (default: the result type's default) after its poison entry is written.
    /// </summary>
    public async Task<TResult> RunAsync<TValue, TResult>(
        string queue,
        string message,
        string? messageId,
        Func<string, QueueMessageReading<TValue>> read,
        Func<QueueMessage<TValue>, CancellationToken, Task<TResult>> handle,
        Func<QueueMessageReading<TValue>, string, TResult>? refused = null,
        CancellationToken cancellationToken = default)
        where TValue : class
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var reading = read(message);
        var correlationId = reading.CorrelationId ?? messageId ?? Guid.NewGuid().ToString("N");
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["CorrelationId"] = correlationId });
        if (reading.Value is not { } value)
        {
            var reason = reading.Reason ?? throw new InvalidOperationException($"A reading of a {queue} message has neither a value nor a reason.");
            var detail = reading.Detail ?? reason;
            await poison.RejectAsync(queue, reading.KeptAs ?? message, reason, detail, correlationId, cancellationToken);
            logger.LogWarning("Rejected {Queue} message {CorrelationId}: {Reason} ({Detail}); moved to {PoisonQueue}",
                queue, correlationId, reason, detail, QueueNames.BookingEventsPoison);
            return refused is null ? default! : refused(reading, correlationId);
        }

        return await handle(new QueueMessage<TValue>(queue, message, value, correlationId, rescheduler), cancellationToken);
    }
}
