using Azure;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Storage;

/// <summary>
/// The Functions host moves a message that failed <c>maxDequeueCount</c> times to <c>{queue}-poison</c> whole, with
/// whatever personal data it carried and no expiry of ours. This sweep (a timer, and the first thing an erasure does)
/// files each such raw message through <see cref="PoisonQueue"/> — contract fields only, with a time-to-live — and
/// deletes the raw copy. Our own envelopes in those queues are left as they are.
/// </summary>
public sealed class HostPoisonSweeper(StorageAccount storage, PoisonQueue poison, ILogger<HostPoisonSweeper> logger)
{
    /// <summary>The reason a host-poisoned message is filed under.</summary>
    public const string ProcessingFailed = "processing-failed";

    /// <summary>Sweeps the poison queue of every queue a function reads; returns how many raw messages were minimised.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var swept = 0;
        foreach (var source in QueueNames.Triggered)
        {
            swept += await PoisonQueueScan.RemoveWhereAsync(storage, source + "-poison", async message =>
            {
                var text = message.Body.ToString();
                if (PoisonEnvelope.TryParse(text) is not null)
                {
                    return false;
                }

                await poison.RejectAsync(source, text, ProcessingFailed, $"the Functions host gave up after {message.DequeueCount} attempts", message.MessageId, cancellationToken);
                return true;
            }, cancellationToken);
        }

        if (swept > 0)
        {
            logger.LogWarning("Minimised {Count} messages the Functions host had poisoned", swept);
        }

        return swept;
    }
}

/// <summary>Walks every message of a queue once, deleting those a predicate picks and leaving the rest as they were.</summary>
internal static class PoisonQueueScan
{
    // Long enough that a message looked at is not received again in the same walk.
    private static readonly TimeSpan HoldWhileScanning = TimeSpan.FromMinutes(2);

    public static async Task<int> RemoveWhereAsync(StorageAccount storage, string queueName, Func<QueueMessage, Task<bool>> removeAsync, CancellationToken cancellationToken)
    {
        var queue = storage.Queue(queueName);
        var held = new List<(string Id, string PopReceipt)>();
        var removed = 0;
        try
        {
            while (true)
            {
                QueueMessage[] batch;
                try
                {
                    batch = (await queue.ReceiveMessagesAsync(32, HoldWhileScanning, cancellationToken)).Value;
                }
                catch (RequestFailedException ex) when (ex.Status == 404)
                {
                    // The host creates a poison queue only when it first needs it.
                    return removed;
                }

                if (batch.Length == 0)
                {
                    return removed;
                }

                foreach (var message in batch)
                {
                    if (await removeAsync(message))
                    {
                        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                        removed++;
                    }
                    else
                    {
                        held.Add((message.MessageId, message.PopReceipt));
                    }
                }
            }
        }
        finally
        {
            foreach (var (id, popReceipt) in held)
            {
                await queue.UpdateMessageAsync(id, popReceipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: CancellationToken.None);
            }
        }
    }
}
