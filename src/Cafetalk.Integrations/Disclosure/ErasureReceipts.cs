using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>What one provider step of an erasure did.</summary>
public sealed record ErasureStep(
    [property: JsonPropertyName("provider")] string Provider,
    [property: JsonPropertyName("action")] string Action,
    [property: JsonPropertyName("items")] int Items,
    [property: JsonPropertyName("outcome")] string Outcome,
    [property: JsonPropertyName("atUtc")] DateTimeOffset AtUtc,
    [property: JsonPropertyName("detail")] string Detail)
{
    public const string Done = "done";
    public const string Failed = "failed";
}

/// <summary>The machine-readable erasure receipt: per provider, what was deleted, when, with what outcome.</summary>
public sealed record ErasureReceipt(
    [property: JsonPropertyName("receiptId")] string ReceiptId,
    [property: JsonPropertyName("requestId")] string RequestId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("requestedAtUtc")] DateTimeOffset RequestedAtUtc,
    [property: JsonPropertyName("completedAtUtc")] DateTimeOffset? CompletedAtUtc,
    [property: JsonPropertyName("steps")] IReadOnlyList<ErasureStep> Steps)
{
    public const string Pending = "pending";
    public const string Completed = "completed";

    public bool IsCompleted => Status == Completed;

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };
}

/// <summary>
/// Table <c>ErasureReceipts</c>, keyed by the member's keyed erasure id (<see cref="MemberKeys.ErasureId"/>), so the
/// receipt names the member only to whoever holds the Key Vault key. A pending receipt also keeps the member id (the
/// retry needs it); a completed one drops it.
/// </summary>
public sealed class ErasureReceipts(StorageAccount storage, MemberKeys keys)
{
    private const string Partition = "receipt";

    private TableClient Table => storage.Table(TableNames.ErasureReceipts);

    public string ReceiptIdOf(string memberId) => keys.ErasureId(memberId);

    public async Task<ErasureReceipt?> FindAsync(string memberId, CancellationToken cancellationToken = default)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, ReceiptIdOf(memberId), cancellationToken: cancellationToken);
        return row.HasValue ? Read(row.Value!) : null;
    }

    public async Task SaveAsync(ErasureReceipt receipt, string memberId, CancellationToken cancellationToken = default)
    {
        var row = new TableEntity(Partition, receipt.ReceiptId)
        {
            ["RequestId"] = receipt.RequestId,
            ["Status"] = receipt.Status,
            ["RequestedAtUtc"] = receipt.RequestedAtUtc,
            ["CompletedAtUtc"] = receipt.CompletedAtUtc,
            ["Steps"] = JsonSerializer.Serialize(receipt.Steps, ErasureReceipt.JsonOptions),
            // Only an unfinished erasure needs to know whom it is for.
            ["MemberId"] = receipt.IsCompleted ? null : memberId,
        };
        await Table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>
    /// Adds what was done after the erasure completed (a late recording deleted at Zoom) to its receipt, replacing an
    /// earlier line for the same provider and detail (a failed attempt followed by the retry's success). The status is
    /// left alone: it tells whether the erasure itself finished. False when there is no receipt under that id.
    /// </summary>
    public async Task<bool> RecordFollowUpAsync(string receiptId, ErasureStep step, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var read = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, receiptId, cancellationToken: cancellationToken);
            if (!read.HasValue)
            {
                return false;
            }

            var row = read.Value!;
            var steps = Read(row).Steps.Where(s => s.Provider != step.Provider || s.Detail != step.Detail).Append(step).ToList();
            try
            {
                // ETag-guarded: two late webhooks of one member must not lose each other's line.
                await Table.UpdateEntityAsync(new TableEntity(Partition, receiptId) { ["Steps"] = JsonSerializer.Serialize(steps, ErasureReceipt.JsonOptions) },
                    row.ETag, TableUpdateMode.Merge, cancellationToken);
                return true;
            }
            catch (RequestFailedException ex) when (ex.Status == 412 && attempt < 5)
            {
                // Another follow-up wrote first: read again.
            }
        }
    }

    /// <summary>Member ids of erasures still pending, for the nightly retry.</summary>
    public async IAsyncEnumerable<(string MemberId, string RequestId)> PendingAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and Status eq {ErasureReceipt.Pending}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (row.GetString("MemberId") is { Length: > 0 } memberId)
            {
                yield return (memberId, row.GetString("RequestId") ?? string.Empty);
            }
        }
    }

    private static ErasureReceipt Read(TableEntity row) => new(
        row.RowKey,
        row.GetString("RequestId") ?? string.Empty,
        row.GetString("Status") ?? ErasureReceipt.Pending,
        row.GetDateTimeOffset("RequestedAtUtc") ?? DateTimeOffset.MinValue,
        row.GetDateTimeOffset("CompletedAtUtc"),
        JsonSerializer.Deserialize<List<ErasureStep>>(row.GetString("Steps") ?? "[]", ErasureReceipt.JsonOptions) ?? []);
}
