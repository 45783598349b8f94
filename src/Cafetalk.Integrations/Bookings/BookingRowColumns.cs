using Azure.Data.Tables;

namespace Cafetalk.Integrations.Bookings;

/// <summary>How a converger writes its own columns of a <c>Bookings</c> row: a merge entity holding only those columns.</summary>
internal static class BookingRowColumns
{
    public static TableEntity Of(TableEntity row, Dictionary<string, object?> values)
    {
        var entity = new TableEntity(row.PartitionKey, row.RowKey);
        foreach (var (key, value) in values)
        {
            entity[key] = value;
        }

        return entity;
    }

    /// <summary>Table storage cannot store null, so "no value" is written as empty and read back as null.</summary>
    public static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
