using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Zoom;

/// <summary>
/// Which Zoom user hosts a lecturer's lessons: table <c>ZoomHosts</c> (PartitionKey lecturerId, RowKey
/// <c>host</c>), else the configured default host. Zoom gets a user id, never the lecturer's email.
/// </summary>
public sealed class ZoomHostDirectory(StorageAccount storage, IOptions<ZoomOptions> options)
{
    internal const string RowKey = "host";
    internal const string HostUserIdColumn = "HostUserId";

    public async Task<string> ResolveAsync(string lecturerId, CancellationToken cancellationToken = default)
    {
        var row = await storage.Table(TableNames.ZoomHosts).GetEntityIfExistsAsync<TableEntity>(lecturerId, RowKey, cancellationToken: cancellationToken);
        return row.HasValue && row.Value!.GetString(HostUserIdColumn) is { Length: > 0 } hostId ? hostId : options.Value.DefaultHostUserId;
    }

    public async Task AssignAsync(string lecturerId, string hostUserId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hostUserId);
        var entity = new TableEntity(lecturerId, RowKey) { [HostUserIdColumn] = hostUserId };
        await storage.Table(TableNames.ZoomHosts).UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
    }
}
