using Azure.Core;
using Azure.Core.Pipeline;

namespace Cafetalk.Integrations.Cli.Bench;

/// <summary>
/// Counts every storage request as it goes on the wire (one per attempt), by service, telling Azurite's services
/// apart by port. A table request is one transaction whether it touches one entity or a batch of them.
/// </summary>
internal sealed class StorageOperationCounter(int tablePort, int queuePort, int blobPort) : HttpPipelinePolicy
{
    private long _table;
    private long _tableBatches;
    private long _queue;
    private long _blob;

    public StorageOperations Snapshot() => new(Interlocked.Read(ref _table), Interlocked.Read(ref _tableBatches), Interlocked.Read(ref _queue), Interlocked.Read(ref _blob));

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Count(message);
        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Count(message);
        return ProcessNextAsync(message, pipeline);
    }

    private void Count(HttpMessage message)
    {
        var uri = message.Request.Uri;
        var port = uri.Port;
        if (port == tablePort)
        {
            Interlocked.Increment(ref _table);
            if (uri.Path.EndsWith("/$batch", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _tableBatches);
            }
        }
        else if (port == queuePort)
        {
            Interlocked.Increment(ref _queue);
        }
        else if (port == blobPort)
        {
            Interlocked.Increment(ref _blob);
        }
    }
}

/// <summary>Storage requests by service; <see cref="TableBatches"/> are the entity-group transactions among the table requests.</summary>
internal sealed record StorageOperations(long Table, long TableBatches, long Queue, long Blob)
{
    public long Total => Table + Queue + Blob;

    public static StorageOperations operator -(StorageOperations a, StorageOperations b) =>
        new(a.Table - b.Table, a.TableBatches - b.TableBatches, a.Queue - b.Queue, a.Blob - b.Blob);
}
