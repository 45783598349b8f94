using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace Cafetalk.Integrations.IntegrationTests.Fuzzing;

/// <summary>
/// Everything in a storage account at one moment: every table row with its ETag, every queue's message count and
/// every blob with its ETag. Two snapshots differ exactly where something was written.
/// </summary>
public sealed record StorageSnapshot(
    IReadOnlyDictionary<string, IReadOnlyDictionary<(string PartitionKey, string RowKey), string>> Rows,
    IReadOnlyDictionary<string, int> QueueCounts,
    IReadOnlyDictionary<string, string> Blobs)
{
    public static async Task<StorageSnapshot> TakeAsync(string connectionString)
    {
        var rows = new Dictionary<string, IReadOnlyDictionary<(string, string), string>>(StringComparer.Ordinal);
        var tables = new TableServiceClient(connectionString);
        await foreach (var table in tables.QueryAsync())
        {
            var entities = new Dictionary<(string, string), string>();
            await foreach (var row in tables.GetTableClient(table.Name).QueryAsync<TableEntity>(select: ["PartitionKey", "RowKey"]))
            {
                entities[(row.PartitionKey, row.RowKey)] = row.ETag.ToString();
            }

            rows[table.Name] = entities;
        }

        var queueCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        var queues = new QueueServiceClient(connectionString);
        await foreach (var queue in queues.GetQueuesAsync())
        {
            queueCounts[queue.Name] = (await queues.GetQueueClient(queue.Name).GetPropertiesAsync()).Value.ApproximateMessagesCount;
        }

        var blobs = new Dictionary<string, string>(StringComparer.Ordinal);
        var service = new BlobServiceClient(connectionString);
        await foreach (var container in service.GetBlobContainersAsync())
        {
            await foreach (var blob in service.GetBlobContainerClient(container.Name).GetBlobsAsync())
            {
                blobs[$"{container.Name}/{blob.Name}"] = blob.Properties.ETag?.ToString() ?? string.Empty;
            }
        }

        return new StorageSnapshot(rows, queueCounts, blobs);
    }

    /// <summary>What changed from <paramref name="before"/> to this snapshot, one line per change.</summary>
    public StorageDiff Since(StorageSnapshot before)
    {
        var rows = new List<RowChange>();
        foreach (var table in Rows.Keys.Union(before.Rows.Keys))
        {
            var now = Rows.GetValueOrDefault(table) ?? new Dictionary<(string, string), string>();
            var then = before.Rows.GetValueOrDefault(table) ?? new Dictionary<(string, string), string>();
            foreach (var (key, etag) in now)
            {
                if (!then.TryGetValue(key, out var old))
                {
                    rows.Add(new RowChange(table, key.PartitionKey, key.RowKey, "added"));
                }
                else if (old != etag)
                {
                    rows.Add(new RowChange(table, key.PartitionKey, key.RowKey, "changed"));
                }
            }

            rows.AddRange(then.Keys.Where(key => !now.ContainsKey(key)).Select(key => new RowChange(table, key.PartitionKey, key.RowKey, "deleted")));
        }

        var queues = QueueCounts.Keys.Union(before.QueueCounts.Keys)
            .Select(q => (Queue: q, Delta: QueueCounts.GetValueOrDefault(q) - before.QueueCounts.GetValueOrDefault(q)))
            .Where(q => q.Delta != 0)
            .ToDictionary(q => q.Queue, q => q.Delta, StringComparer.Ordinal);
        var blobs = Blobs.Where(b => before.Blobs.GetValueOrDefault(b.Key) != b.Value).Select(b => b.Key)
            .Concat(before.Blobs.Keys.Where(k => !Blobs.ContainsKey(k)))
            .ToList();
        return new StorageDiff(rows, queues, blobs);
    }
}

public sealed record RowChange(string Table, string PartitionKey, string RowKey, string Kind)
{
    public override string ToString() => $"{Kind} {Table}({PartitionKey}, {RowKey})";
}

/// <summary>Rows added, changed or deleted; queues whose message count moved; blobs added, changed or deleted.</summary>
public sealed record StorageDiff(IReadOnlyList<RowChange> Rows, IReadOnlyDictionary<string, int> QueueDeltas, IReadOnlyList<string> Blobs)
{
    public bool IsEmpty => Rows.Count == 0 && QueueDeltas.Count == 0 && Blobs.Count == 0;

    public IEnumerable<RowChange> In(string table) => Rows.Where(r => r.Table == table);

    public int Delta(string queue) => QueueDeltas.GetValueOrDefault(queue);

    public override string ToString() =>
        string.Join("; ", Rows.Take(10).Select(r => r.ToString())
            .Concat(QueueDeltas.Select(q => $"queue {q.Key} {q.Value:+#;-#}"))
            .Concat(Blobs.Take(10).Select(b => $"blob {b}")));
}
