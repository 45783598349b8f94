using Azure;
using Azure.Data.Tables;

namespace Cafetalk.Integrations.Bookings;

/// <summary>Writes a converger's actual-state columns onto a <c>Bookings</c> row, merging around the desired state.</summary>
public static class BookingFacts
{
    private const int MaxAttempts = 8;

    /// <summary>Writes against <paramref name="etag"/>; false when the row changed or vanished meanwhile.</summary>
    public static async Task<bool> TryWriteAsync(TableClient table, TableEntity columns, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            await table.UpdateEntityAsync(columns, etag, TableUpdateMode.Merge, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return false;
        }
    }

    /// <summary>
    /// Records what the provider now holds. The call already happened, so the fact must land: when the row changed
    /// under us (a newer event), it is written again against the new ETag; only the converger writes these columns.
    /// </summary>
    public static async Task WriteAsync(TableClient table, TableEntity row, TableEntity columns, CancellationToken cancellationToken)
    {
        var etag = row.ETag;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            if (await TryWriteAsync(table, columns, etag, cancellationToken))
            {
                return;
            }

            var current = await table.GetEntityIfExistsAsync<TableEntity>(row.PartitionKey, row.RowKey, cancellationToken: cancellationToken);
            if (!current.HasValue)
            {
                return;
            }

            etag = current.Value!.ETag;
        }

        throw new BookingStateConflictException(row.RowKey, MaxAttempts);
    }

    /// <summary>A merge entity holding only <paramref name="values"/> for the row's keys.</summary>
    public static TableEntity Columns(TableEntity row, IEnumerable<KeyValuePair<string, object?>> values)
    {
        var entity = new TableEntity(row.PartitionKey, row.RowKey);
        foreach (var (key, value) in values)
        {
            entity[key] = value;
        }

        return entity;
    }
}
