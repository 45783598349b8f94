using Azure;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Erasure;

/// <summary>
/// Poison storage: what the host poisoned whole is first minimised (<see cref="HostPoisonSweeper"/>), then every poison
/// entry naming the member, their ledger pseudonym or one of their bookings is deleted, with any blob an older release
/// kept for it; a blob of that container naming them is deleted too.
/// </summary>
public sealed class PoisonErasureStep(StorageAccount storage, HostPoisonSweeper sweeper, TimeProvider time) : IErasureStep
{
    public string Provider => "poison";

    public async Task<ErasureStep> EraseAsync(ErasureScope scope, CancellationToken cancellationToken)
    {
        await sweeper.SweepAsync(cancellationToken);
        // Ids are [A-Za-z0-9_.-], so a quoted id is found as is in any JSON text that holds it as a value.
        var quoted = new[] { scope.MemberId, scope.SubjectRef }.Concat(scope.Bookings.Select(b => b.BookingId))
            .OfType<string>().Select(id => $"\"{id}\"").ToList();
        bool Names(string? text) => text is not null && quoted.Any(q => text.Contains(q, StringComparison.Ordinal));

        var container = storage.BlobContainer(BlobContainerNames.PoisonPayloads);
        var entries = await PoisonQueueScan.RemoveWhereAsync(storage, QueueNames.BookingEventsPoison, async message =>
        {
            var envelope = PoisonEnvelope.TryParse(message.Body.ToString());
            if (envelope is null)
            {
                return Names(message.Body.ToString());
            }

            if (envelope.PayloadBlob is null)
            {
                return Names(envelope.Message);
            }

            var blob = container.GetBlobClient(envelope.PayloadBlob);
            try
            {
                if (!Names((await blob.DownloadContentAsync(cancellationToken)).Value.Content.ToString()))
                {
                    return false;
                }
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                return false;
            }

            await blob.DeleteIfExistsAsync(cancellationToken: cancellationToken);
            return true;
        }, cancellationToken);

        var blobs = 0;
        await foreach (var item in container.GetBlobsAsync(cancellationToken: cancellationToken))
        {
            var blob = container.GetBlobClient(item.Name);
            if (Names((await blob.DownloadContentAsync(cancellationToken)).Value.Content.ToString()) && (await blob.DeleteIfExistsAsync(cancellationToken: cancellationToken)).Value)
            {
                blobs++;
            }
        }

        return new ErasureStep(Provider, "poison entries deleted", entries + blobs, ErasureStep.Done, time.GetUtcNow(),
            $"{entries} entries from queue {QueueNames.BookingEventsPoison} (host poison queues minimised first), {blobs} blobs from container {BlobContainerNames.PoisonPayloads}");
    }
}
