using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>One open Google watch channel on a lecturer's lesson calendar, the secret token opened.</summary>
public sealed record WatchChannel(string ChannelId, string LecturerId, string CalendarId, string ResourceId, string Token, DateTimeOffset ExpiresAtUtc)
{
    /// <summary>No secret in the default text: the token stays out of logs and exception messages.</summary>
    public override string ToString() => $"WatchChannel {{ ChannelId = {ChannelId}, LecturerId = {LecturerId}, ExpiresAtUtc = {ExpiresAtUtc:O} }}";
}

/// <summary>
/// Table <c>CalendarWatchChannels</c>: partition <c>channel</c> (RowKey channel id) holds each open channel with its
/// token sealed by <see cref="FieldProtector"/> (associated data: table, partition and channel id), so a notification
/// is checked with one point read; partition <c>lecturer</c> (RowKey lecturer id) holds when a sync was last asked
/// for and last started, the debounce of many notifications into one sync.
/// </summary>
public sealed class CalendarWatchChannels(StorageAccount storage, FieldProtector protector)
{
    private const string ChannelPartition = "channel";
    private const string LecturerPartition = "lecturer";
    private const string LecturerId = nameof(LecturerId);
    private const string CalendarId = nameof(CalendarId);
    private const string ResourceId = nameof(ResourceId);
    private const string Token = nameof(Token);
    private const string ExpiresAtUtc = nameof(ExpiresAtUtc);
    private const string SyncRequestedAtUtc = nameof(SyncRequestedAtUtc);
    private const string SyncStartedAtUtc = nameof(SyncStartedAtUtc);

    private TableClient Table => storage.Table(TableNames.CalendarWatchChannels);

    public static string AssociatedData(string channelId) => $"{TableNames.CalendarWatchChannels}/{ChannelPartition}/{channelId}";

    public async Task AddAsync(WatchChannel channel, CancellationToken cancellationToken = default) =>
        await Table.UpsertEntityAsync(new TableEntity(ChannelPartition, channel.ChannelId)
        {
            [LecturerId] = channel.LecturerId,
            [CalendarId] = channel.CalendarId,
            [ResourceId] = channel.ResourceId,
            [Token] = protector.Protect(channel.Token, AssociatedData(channel.ChannelId)),
            [ExpiresAtUtc] = channel.ExpiresAtUtc,
        }, TableUpdateMode.Replace, cancellationToken);

    /// <summary>The channel, or null when we hold no channel of that id.</summary>
    public async Task<WatchChannel?> FindAsync(string channelId, CancellationToken cancellationToken = default)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(ChannelPartition, channelId, cancellationToken: cancellationToken);
        return row.HasValue ? Read(row.Value!) : null;
    }

    /// <summary>Every open channel (a renewal overlaps two for a moment), for the renewal timer.</summary>
    public async IAsyncEnumerable<WatchChannel> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var row in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {ChannelPartition}"), cancellationToken: cancellationToken))
        {
            yield return Read(row);
        }
    }

    /// <summary>The lecturer's open channels (one, two while a renewal overlaps). A scan of one partition: disconnects and erasures are rare.</summary>
    public async Task<List<WatchChannel>> ListForAsync(string lecturerId, CancellationToken cancellationToken = default)
    {
        var found = new List<WatchChannel>();
        await foreach (var row in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {ChannelPartition} and LecturerId eq {lecturerId}"), cancellationToken: cancellationToken))
        {
            found.Add(Read(row));
        }

        return found;
    }

    public async Task DeleteAsync(string channelId, CancellationToken cancellationToken = default)
    {
        try
        {
            await Table.DeleteEntityAsync(ChannelPartition, channelId, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Already gone: stopping is idempotent.
        }
    }

    /// <summary>Forgets the lecturer's debounce row (disconnect, erasure).</summary>
    public async Task DeleteLecturerAsync(string lecturerId, CancellationToken cancellationToken = default)
    {
        try
        {
            await Table.DeleteEntityAsync(LecturerPartition, lecturerId, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }
    }

    /// <summary>
    /// True for the one caller that records a new sync request; false while a request made earlier has not started its
    /// sync yet (that sync will see this change too) or another caller recorded it first.
    /// </summary>
    public async Task<bool> TryRequestSyncAsync(string lecturerId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var found = await Table.GetEntityIfExistsAsync<TableEntity>(LecturerPartition, lecturerId, cancellationToken: cancellationToken);
        try
        {
            if (!found.HasValue)
            {
                await Table.AddEntityAsync(new TableEntity(LecturerPartition, lecturerId) { [SyncRequestedAtUtc] = now }, cancellationToken);
                return true;
            }

            var row = found.Value!;
            var requested = row.GetDateTimeOffset(SyncRequestedAtUtc);
            var started = row.GetDateTimeOffset(SyncStartedAtUtc);
            if (requested is { } r && (started is null || started < r))
            {
                return false;
            }

            await Table.UpdateEntityAsync(new TableEntity(LecturerPartition, lecturerId) { [SyncRequestedAtUtc] = now }, row.ETag, TableUpdateMode.Merge, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return false;
        }
    }

    /// <summary>Written before the sync lists: a notification arriving after this asks for a new sync.</summary>
    public async Task MarkSyncStartedAsync(string lecturerId, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        await Table.UpsertEntityAsync(new TableEntity(LecturerPartition, lecturerId) { [SyncStartedAtUtc] = now }, TableUpdateMode.Merge, cancellationToken);

    private WatchChannel Read(TableEntity row) => new(
        row.RowKey,
        row.GetString(LecturerId) ?? string.Empty,
        row.GetString(CalendarId) ?? string.Empty,
        row.GetString(ResourceId) ?? string.Empty,
        protector.Unprotect(row.GetString(Token) ?? string.Empty, AssociatedData(row.RowKey)),
        row.GetDateTimeOffset(ExpiresAtUtc) ?? DateTimeOffset.MinValue);
}
