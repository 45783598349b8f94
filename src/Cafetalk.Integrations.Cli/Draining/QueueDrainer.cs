using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Cli.Draining;

/// <summary>Counts of what a drain did, grouped the way operators read them.</summary>
internal sealed class DrainTally
{
    private readonly Dictionary<string, int> _rejections = new(StringComparer.Ordinal);

    public int Received { get; private set; }
    public int Applied { get; private set; }
    public int Unchanged { get; private set; }
    public int Forwarded { get; private set; }
    /// <summary>Booking events naming an erased member: valid, and dropped by the tombstone.</summary>
    public int Dropped { get; private set; }
    public int Failed { get; private set; }

    public int Processed => Applied + Unchanged + Forwarded + Dropped;
    public int Rejected => _rejections.Values.Sum();

    public IReadOnlyList<(string Reason, int Count)> Rejections =>
        _rejections.OrderByDescending(r => r.Value).ThenBy(r => r.Key, StringComparer.Ordinal).Select(r => (r.Key, r.Value)).ToList();

    public void Add(IntakeOutcome outcome)
    {
        Received++;
        switch (outcome.Disposition)
        {
            case IntakeDisposition.Applied: Applied++; break;
            case IntakeDisposition.Unchanged: Unchanged++; break;
            case IntakeDisposition.Forwarded: Forwarded++; break;
            case IntakeDisposition.Dropped: Dropped++; break;
            case IntakeDisposition.Rejected:
                var reason = outcome.Rejection!.Reason;
                _rejections[reason] = _rejections.GetValueOrDefault(reason) + 1;
                break;
        }
    }

    /// <summary>Adds another drain's counts to this one.</summary>
    public void Merge(DrainTally other)
    {
        Received += other.Received;
        Applied += other.Applied;
        Unchanged += other.Unchanged;
        Dropped += other.Dropped;
        Forwarded += other.Forwarded;
        Failed += other.Failed;
        foreach (var (reason, count) in other._rejections)
        {
            _rejections[reason] = _rejections.GetValueOrDefault(reason) + count;
        }
    }

    public void AddFailure()
    {
        Received++;
        Failed++;
    }
}

/// <summary>
/// Drains <c>booking-events</c> through the same intake the queue-triggered function runs, the way the host
/// would: a message is deleted only after intake finished with it; one that keeps failing is poisoned after
/// the host's maxDequeueCount.
/// </summary>
internal sealed class QueueDrainer(StorageAccount storage, BookingEventIntake intake, PoisonQueue poison)
{
    public const int MaxDequeueCount = 5;

    /// <summary>How long a received message stays hidden while intake runs; a failed one shows again after it (host.json <c>visibilityTimeout</c>).</summary>
    public TimeSpan Visibility { get; init; } = TimeSpan.FromSeconds(30);

    public async Task<DrainTally> DrainAsync(Action<int>? progress = null, CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var queue = storage.Queue(QueueNames.BookingEvents);
        var tally = new DrainTally();
        while (true)
        {
            var batch = await queue.ReceiveMessagesAsync(maxMessages: 32, visibilityTimeout: Visibility, cancellationToken);
            if (batch.Value.Length == 0)
            {
                return tally;
            }

            foreach (var message in batch.Value)
            {
                var text = message.Body.ToString();
                try
                {
                    tally.Add(await intake.ProcessAsync(text, message.MessageId, cancellationToken));
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                }
                // Any failure, as the host sees it: the storage SDK reports spent retries as an AggregateException.
                catch (Exception ex) when (ex is not OperationCanceledException && message.DequeueCount >= MaxDequeueCount)
                {
                    await poison.RejectAsync(QueueNames.BookingEvents, text, "processing-failed", $"failed {message.DequeueCount} times", message.MessageId, cancellationToken);
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                    tally.AddFailure();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Left on the queue: it becomes visible again after the timeout, as with the host.
                    tally.AddFailure();
                }

                progress?.Invoke(tally.Received);
            }
        }
    }
}
