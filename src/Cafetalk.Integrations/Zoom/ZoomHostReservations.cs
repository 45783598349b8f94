using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Zoom;

/// <summary>
/// Table <c>ZoomHostReservations</c> (PartitionKey <c>{hostId}:{lane}</c>, RowKey a slot <c>yyyyMMddHHmm</c>, column
/// <c>BookingId</c>): which booking's meeting holds each 5-minute slot of a pool host's lane. A lesson's slots are
/// inserted in one entity-group transaction, so of two placements that want one slot exactly one wins (the other's
/// batch fails with 409 and it chooses again). Rows hold ids only.
/// </summary>
public sealed class ZoomHostReservations(StorageAccount storage)
{
    internal const string BookingIdColumn = "BookingId";

    private TableClient Table => storage.Table(TableNames.ZoomHostReservations);

    public static string PartitionOf(string hostId, int lane) => $"{hostId}:{lane}";

    /// <summary>Who holds each (lane, slot) of <paramref name="host"/> from <paramref name="firstSlot"/> to <paramref name="lastSlot"/>.</summary>
    public async Task<IReadOnlyDictionary<(int Lane, string Slot), string>> ReadAsync(ZoomPoolHost host, string firstSlot, string lastSlot, CancellationToken cancellationToken = default)
    {
        var taken = new Dictionary<(int, string), string>();
        for (var lane = 0; lane < host.Concurrency; lane++)
        {
            var partition = PartitionOf(host.HostId, lane);
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {firstSlot} and RowKey le {lastSlot}");
            await foreach (var row in Table.QueryAsync<TableEntity>(filter, select: ["RowKey", BookingIdColumn], cancellationToken: cancellationToken))
            {
                taken[(lane, row.RowKey)] = row.GetString(BookingIdColumn) ?? string.Empty;
            }
        }

        return taken;
    }

    /// <summary>
    /// Inserts the slots of <paramref name="slots"/> the booking does not already hold (per <paramref name="seen"/>) in one
    /// transaction; false when another booking took one of them first.
    /// </summary>
    public async Task<bool> TryReserveAsync(string hostId, int lane, string bookingId, IReadOnlyList<string> slots,
        IReadOnlyDictionary<(int Lane, string Slot), string> seen, CancellationToken cancellationToken = default)
    {
        var partition = PartitionOf(hostId, lane);
        var missing = slots.Where(s => !(seen.TryGetValue((lane, s), out var holder) && holder == bookingId)).ToList();
        if (missing.Count == 0)
        {
            return true;
        }

        var batch = missing.Select(slot => new TableTransactionAction(TableTransactionActionType.Add,
            new TableEntity(partition, slot) { [BookingIdColumn] = bookingId })).ToList();
        try
        {
            await Table.SubmitTransactionAsync(batch, cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    /// <summary>Frees the booking's slots of one lane that are not in <paramref name="keep"/> (its new time on the same lane).</summary>
    public async Task ReleaseAsync(string hostId, int lane, string bookingId, IReadOnlyList<string> slots, IReadOnlyCollection<string>? keep = null, CancellationToken cancellationToken = default)
    {
        if (slots.Count == 0)
        {
            return;
        }

        var partition = PartitionOf(hostId, lane);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {slots[0]} and RowKey le {slots[^1]} and BookingId eq {bookingId}");
        var delete = new List<TableTransactionAction>();
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            if (keep is null || !keep.Contains(row.RowKey))
            {
                delete.Add(new TableTransactionAction(TableTransactionActionType.Delete, row, row.ETag));
            }
        }

        foreach (var chunk in delete.Chunk(100))
        {
            try
            {
                await Table.SubmitTransactionAsync(chunk, cancellationToken);
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 404 or 412)
            {
                // Released meanwhile by another run of the same booking: one at a time, ignoring what is gone.
                foreach (var action in chunk)
                {
                    try
                    {
                        await Table.DeleteEntityAsync(action.Entity.PartitionKey, action.Entity.RowKey, ETag.All, cancellationToken);
                    }
                    catch (RequestFailedException gone) when (gone.Status == 404)
                    {
                    }
                }
            }
        }
    }
}
