using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Zoom;

/// <summary>
/// Which Zoom user hosts a lecturer's lessons: table <c>ZoomHosts</c> (PartitionKey lecturerId, RowKey
/// <c>host</c>), else the configured default host. Zoom gets a user id, never the lecturer's email.
/// </summary>
public sealed class ZoomHostDirectory(StorageAccount storage, IOptions<ZoomOptions> options, TimeProvider time)
{
    internal const string RowKey = "host";
    internal const string HostUserIdColumn = "HostUserId";

    /// <summary>
    /// How long this instance reuses a host it has read: an assignment rarely changes, and one made on another instance
    /// reaches meetings created here within this time (a meeting already made keeps the host it was made on).
    /// </summary>
    public static readonly TimeSpan KnownHostLifetime = TimeSpan.FromMinutes(5);

    // Lecturer id -> host, so a create costs no ZoomHosts read.
    private readonly RememberedValues<string> _known = new();

    public async Task<string> ResolveAsync(string lecturerId, CancellationToken cancellationToken = default) =>
        await FindAssignedAsync(lecturerId, cancellationToken) ?? options.Value.DefaultHostUserId;

    /// <summary>The lecturer's own Zoom user from <c>ZoomHosts</c>, or null when they have none (their lessons go on the pool).</summary>
    public async Task<string?> FindAssignedAsync(string lecturerId, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        if (_known.TryGet(lecturerId, now, out var known))
        {
            return known.Length > 0 ? known : null;
        }

        var row = await storage.Table(TableNames.ZoomHosts).GetEntityIfExistsAsync<TableEntity>(lecturerId, RowKey, cancellationToken: cancellationToken);
        // An empty string remembers "no row", so a pooled lecturer's next create costs no ZoomHosts read either.
        var hostId = row.HasValue && row.Value!.GetString(HostUserIdColumn) is { Length: > 0 } assigned ? assigned : string.Empty;
        _known.Remember(lecturerId, hostId, now + KnownHostLifetime);
        return hostId.Length > 0 ? hostId : null;
    }

    public async Task AssignAsync(string lecturerId, string hostUserId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hostUserId);
        var entity = new TableEntity(lecturerId, RowKey) { [HostUserIdColumn] = hostUserId };
        await storage.Table(TableNames.ZoomHosts).UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
        _known.Remember(lecturerId, hostUserId, time.GetUtcNow() + KnownHostLifetime);
    }
}
