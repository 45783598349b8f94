using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Zoom;

/// <summary>
/// Table <c>ZoomHostPool</c> (PartitionKey <c>pool</c>, RowKey the Zoom user id; columns <c>Concurrency</c>,
/// <c>DailyCreateUpdateLimit</c>): the Zoom users that host lessons of lecturers without a <c>ZoomHosts</c> row. An
/// empty pool keeps the single <c>Zoom:DefaultHostUserId</c>. Rows name Cafetalk's own Zoom users, never a person's email.
/// </summary>
public sealed class ZoomHostPool(StorageAccount storage, IOptions<ZoomOptions> options, TimeProvider time)
{
    internal const string PartitionKey = "pool";
    internal const string ConcurrencyColumn = "Concurrency";
    internal const string DailyLimitColumn = "DailyCreateUpdateLimit";

    private const string Key = "pool";

    // One read per instance per lifetime: the pool changes by operator command, rarely.
    private readonly RememberedValues<IReadOnlyList<ZoomPoolHost>> _known = new();

    /// <summary>Every pool host, ordered by id; empty when the pool is not used.</summary>
    public async Task<IReadOnlyList<ZoomPoolHost>> ListAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        if (_known.TryGet(Key, now, out var known))
        {
            return known;
        }

        var hosts = new List<ZoomPoolHost>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {PartitionKey}");
        await foreach (var row in storage.Table(TableNames.ZoomHostPool).QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            hosts.Add(new ZoomPoolHost(
                row.RowKey,
                Math.Clamp(row.GetInt32(ConcurrencyColumn) ?? 1, 1, ZoomPoolHost.MaxConcurrency),
                row.GetInt32(DailyLimitColumn) is int limit && limit > 0 ? Math.Min(limit, options.Value.DailyCreateUpdateLimitPerHost) : options.Value.DailyCreateUpdateLimitPerHost));
        }

        hosts.Sort((a, b) => string.CompareOrdinal(a.HostId, b.HostId));
        return _known.Remember(Key, hosts, now + ZoomHostDirectory.KnownHostLifetime);
    }

    /// <summary>Adds or replaces a pool host; <paramref name="dailyLimit"/> null means <c>Zoom:DailyCreateUpdateLimitPerHost</c>.</summary>
    public async Task AddAsync(string hostId, int concurrency, int? dailyLimit, CancellationToken cancellationToken = default)
    {
        if (!TableKeys.IsValidId(hostId))
        {
            throw new ArgumentException("A pool host is a Zoom user id: 1-64 characters of A-Z a-z 0-9 _ . - (never an email).", nameof(hostId));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(concurrency, ZoomPoolHost.MaxConcurrency);
        var entity = new TableEntity(PartitionKey, hostId) { [ConcurrencyColumn] = concurrency };
        if (dailyLimit is { } limit)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
            entity[DailyLimitColumn] = limit;
        }

        await storage.Table(TableNames.ZoomHostPool).UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
        _known.Forget(Key);
    }
}
