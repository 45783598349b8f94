using Azure;
using Azure.Data.Tables;

namespace Cafetalk.Integrations.Storage;

/// <summary>Claiming a row by deleting it: whoever deletes it first owns what it stood for (a one-time token, an OAuth state).</summary>
public static class TableClaims
{
    /// <summary>
    /// Deletes the row if it is still as read (<paramref name="etag"/>); true only for the caller that deleted it.
    /// Azure.Data.Tables answers a delete of a row that is already gone with its 404 response instead of throwing, so the
    /// status is checked: without that, two concurrent claims of one row both succeed.
    /// </summary>
    public static async Task<bool> TryDeleteAsync(TableClient table, string partitionKey, string rowKey, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await table.DeleteEntityAsync(partitionKey, rowKey, etag, cancellationToken);
            return response.Status is >= 200 and < 300;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return false;
        }
    }
}
