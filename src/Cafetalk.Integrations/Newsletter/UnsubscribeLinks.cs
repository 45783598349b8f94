using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Newsletter;

/// <summary>
/// Table <c>UnsubscribeLinks</c>: the random link id an unsubscribe token carries, mapped to the subscription it
/// acts on (PartitionKey link id, RowKey <c>link</c>), and the reverse row that reuses one link per subscription
/// (PartitionKey pseudonym, RowKey <c>list|{list}</c>). A token thus names neither the member nor their ledger
/// pseudonym, and erasure deletes both rows, so every link the member was mailed stops working.
/// </summary>
public sealed partial class UnsubscribeLinks(StorageAccount storage)
{
    private const string LinkRowKey = "link";
    private const string ListPrefix = "list|";

    private TableClient Table => storage.Table(TableNames.UnsubscribeLinks);

    /// <summary>The subscription's link id, made on first use (a concurrent maker wins and is reused).</summary>
    public async Task<string> GetOrCreateAsync(string subjectRef, string list, CancellationToken cancellationToken = default)
    {
        var reverse = await Table.GetEntityIfExistsAsync<TableEntity>(subjectRef, ListPrefix + list, ["LinkId"], cancellationToken);
        if (reverse.HasValue && reverse.Value!.GetString("LinkId") is { Length: > 0 } known)
        {
            return known;
        }

        var linkId = "lnk-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        // The forward row first: a reverse row never points at a link that does not resolve.
        await Table.AddEntityAsync(new TableEntity(linkId, LinkRowKey) { ["SubjectRef"] = subjectRef, ["List"] = list }, cancellationToken);
        try
        {
            await Table.AddEntityAsync(new TableEntity(subjectRef, ListPrefix + list) { ["LinkId"] = linkId }, cancellationToken);
            return linkId;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            await Table.DeleteEntityAsync(linkId, LinkRowKey, ETag.All, cancellationToken);
            return (await Table.GetEntityAsync<TableEntity>(subjectRef, ListPrefix + list, ["LinkId"], cancellationToken)).Value.GetString("LinkId")!;
        }
    }

    /// <summary>The subscription a link id acts on; null for an unknown or erased link.</summary>
    public async Task<(string SubjectRef, string List)?> ResolveAsync(string linkId, CancellationToken cancellationToken = default)
    {
        if (!IsLinkId(linkId))
        {
            return null;
        }

        var row = await Table.GetEntityIfExistsAsync<TableEntity>(linkId, LinkRowKey, cancellationToken: cancellationToken);
        return row.HasValue && row.Value!.GetString("SubjectRef") is { Length: > 0 } subjectRef && row.Value.GetString("List") is { Length: > 0 } list
            ? (subjectRef, list)
            : null;
    }

    /// <summary>Erasure: deletes every link of the pseudonym's subscriptions. Returns how many links went.</summary>
    public async Task<int> DeleteAllAsync(string subjectRef, CancellationToken cancellationToken = default)
    {
        var deleted = 0;
        await foreach (var row in Table.QueryAsync<TableEntity>(e => e.PartitionKey == subjectRef, cancellationToken: cancellationToken))
        {
            if (row.GetString("LinkId") is { Length: > 0 } linkId)
            {
                await DeleteIfExistsAsync(linkId, LinkRowKey, cancellationToken);
                deleted++;
            }

            await DeleteIfExistsAsync(row.PartitionKey, row.RowKey, cancellationToken);
        }

        return deleted;
    }

    /// <summary>True for a link id this table makes.</summary>
    public static bool IsLinkId(string? value) => value is not null && LinkIdPattern().IsMatch(value);

    private async Task DeleteIfExistsAsync(string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        try
        {
            await Table.DeleteEntityAsync(partitionKey, rowKey, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Deleted by an earlier run.
        }
    }

    [GeneratedRegex("^lnk-[0-9a-f]{32}$", RegexOptions.CultureInvariant)]
    private static partial Regex LinkIdPattern();
}
