using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>
/// Table <c>CalendarConnectTickets</c> (PartitionKey ticket id, RowKey <c>spent</c>): connect tickets already used
/// to complete a consent, kept until they expire. Spending is an insert-if-absent, so of two browsers completing the
/// same ticket exactly one gets through. Rows hold a hash of the ticket's MAC and its expiry, nothing else.
/// </summary>
public sealed class SpentConnectTickets(StorageAccount storage, TimeProvider time)
{
    private const string RowKey = "spent";

    private TableClient Table => storage.Table(TableNames.CalendarConnectTickets);

    /// <summary>True for the first caller only; false when the ticket was spent before.</summary>
    public async Task<bool> TrySpendAsync(string ticketId, DateTimeOffset expiresAtUtc, CancellationToken cancellationToken = default)
    {
        try
        {
            await Table.AddEntityAsync(new TableEntity(ticketId, RowKey) { ["ExpiresAtUtc"] = expiresAtUtc }, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    public async Task<bool> IsSpentAsync(string ticketId, CancellationToken cancellationToken = default) =>
        (await Table.GetEntityIfExistsAsync<TableEntity>(ticketId, RowKey, select: ["PartitionKey"], cancellationToken: cancellationToken)).HasValue;

    /// <summary>Forgets spent tickets that have expired anyway (the ticket check refuses them on its own); returns how many.</summary>
    public Task<int> PurgeExpiredAsync(CancellationToken cancellationToken = default) =>
        Http.OneTimeFormTokens.PurgeExpiredAsync(Table, time.GetUtcNow(), cancellationToken);
}
