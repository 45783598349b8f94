using System.Text;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Operations;

/// <summary>What replay did, or would do, with one poisoned message.</summary>
public sealed record PoisonReplayItem(
    string MessageId,
    string CorrelationId,
    string OriginalReason,
    string SourceQueue,
    Rejection? StillRejected,
    bool Replayed);

/// <summary>
/// Puts poisoned messages back on the queue they came from, once whatever refused them is fixed. By default
/// only messages that now pass validation go back; the rest stay in the poison queue untouched. What goes back is what
/// the envelope kept (the contract's fields), which is all the handlers ever read; an entry kept as a digest cannot go back.
/// </summary>
public sealed class PoisonReplayer(StorageAccount storage, PoisonQueue poison, BookingEventParser parser)
{
    /// <summary>The entry kept only the message's digest (not JSON, or a queue whose messages hold secrets).</summary>
    public const string DigestOnly = "digest-only";

    private static readonly TimeSpan HoldWhileListing = TimeSpan.FromMinutes(2);

    public async Task<IReadOnlyList<PoisonReplayItem>> ReplayAsync(
        string poisonQueueName, bool dryRun, bool includeStillInvalid, int max, CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var poisonQueue = storage.Queue(poisonQueueName);
        var items = new List<PoisonReplayItem>();
        var held = new List<(string Id, string PopReceipt)>();
        try
        {
            while (items.Count < max)
            {
                var batch = await poisonQueue.ReceiveMessagesAsync(Math.Min(32, max - items.Count), HoldWhileListing, cancellationToken);
                if (batch.Value.Length == 0)
                {
                    break;
                }

                foreach (var message in batch.Value)
                {
                    var text = message.Body.ToString();
                    var envelope = PoisonEnvelope.TryParse(text);
                    var original = envelope is null ? text : await poison.ReadOriginalAsync(envelope, cancellationToken);
                    var source = envelope?.SourceQueue ?? SourceOf(poisonQueueName);
                    var still = original is null
                        ? new Rejection(DigestOnly, "only a digest was kept: the sender must send it again")
                        : Encoding.UTF8.GetByteCount(original) > StorageAccount.MaxQueueMessageBytes
                            ? new Rejection(RejectionReasons.TooLarge, "too large to travel on a queue")
                            : source == QueueNames.BookingEvents ? parser.Parse(original).Rejection : null;
                    var replay = !dryRun && original is not null && (still is null || (includeStillInvalid && still.Reason != RejectionReasons.TooLarge));
                    if (replay)
                    {
                        await storage.Queue(source).SendMessageAsync(original!, cancellationToken);
                        await poisonQueue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                    }
                    else
                    {
                        held.Add((message.MessageId, message.PopReceipt));
                    }

                    items.Add(new PoisonReplayItem(message.MessageId, envelope?.CorrelationId ?? message.MessageId,
                        envelope?.Reason ?? "host-poisoned", source, still, replay));
                }
            }
        }
        finally
        {
            // What was only looked at becomes visible again at once, exactly as it was.
            foreach (var (id, popReceipt) in held)
            {
                await poisonQueue.UpdateMessageAsync(id, popReceipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: CancellationToken.None);
            }
        }

        return items;
    }

    /// <summary>The host names a poison queue after its source: <c>X-poison</c>.</summary>
    private static string SourceOf(string poisonQueueName) =>
        poisonQueueName.EndsWith("-poison", StringComparison.Ordinal) ? poisonQueueName[..^"-poison".Length] : QueueNames.BookingEvents;
}
