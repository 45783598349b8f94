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

    public async Task<string> ResolveAsync(string lecturerId, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        if (_known.TryGet(lecturerId, now, out var known))
        {
            return known;
        }

        var row = await storage.Table(TableNames.ZoomHosts).GetEntityIfExistsAsync<TableEntity>(lecturerId, RowKey, cancellationToken: cancellationToken);
        var hostId = row.HasValue && row.Value!.GetString(HostUserIdColumn) is { Length: > 0 } assigned ? assigned : options.Value.DefaultHostUserId;
        return _known.Remember(lecturerId, hostId, now + KnownHostLifetime);
    }

    public async Task AssignAsync(string lecturerId, string hostUserId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hostUserId);
        var entity = new TableEntity(lecturerId, RowKey) { [HostUserIdColumn] = hostUserId };
        await storage.Table(TableNames.ZoomHosts).UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
        _known.Remember(lecturerId, hostUserId, time.GetUtcNow() + KnownHostLifetime);
    }
}
