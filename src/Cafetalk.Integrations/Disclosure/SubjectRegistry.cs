using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>
/// Table <c>Subjects</c> (PartitionKey memberId, RowKey "subject"): each member's random ledger pseudonym.
/// Erasure forgets the mapping, so ledger rows stay for their retention but no longer point at the person (§9).
/// </summary>
public sealed partial class SubjectRegistry(StorageAccount storage, TimeProvider time)
{
    private const string RowKey = "subject";
    private const string SubjectRefColumn = "SubjectRef";

    private TableClient Table => storage.Table(TableNames.Subjects);

    /// <summary>The member's pseudonym, created on their first disclosure (a concurrent creator wins and is reused).</summary>
    public async Task<string> GetOrCreateAsync(string memberId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(memberId);
        var existing = await FindAsync(memberId, cancellationToken);
        if (existing is not null)
        {
            return existing;
        }

        var subjectRef = NewSubjectRef();
        try
        {
            await Table.AddEntityAsync(
                new TableEntity(memberId, RowKey) { [SubjectRefColumn] = subjectRef, ["CreatedAtUtc"] = time.GetUtcNow() },
                cancellationToken);
            return subjectRef;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return await FindAsync(memberId, cancellationToken)
                ?? throw new InvalidOperationException("A subject mapping was created and removed concurrently; retry.");
        }
    }

    /// <summary>The member's pseudonym, or null when they never had a disclosure or were erased.</summary>
    public async Task<string?> FindAsync(string memberId, CancellationToken cancellationToken = default)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(memberId, RowKey, [SubjectRefColumn], cancellationToken);
        return row.HasValue ? row.Value!.GetString(SubjectRefColumn) : null;
    }

    /// <summary>Erasure: forgets which pseudonym is this member's. True when a mapping was removed.</summary>
    public async Task<bool> ForgetAsync(string memberId, CancellationToken cancellationToken = default)
    {
        try
        {
            await Table.DeleteEntityAsync(memberId, RowKey, ETag.All, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return false;
        }
    }

    /// <summary>True for a pseudonym this registry makes; anything else never names a subject's rows.</summary>
    public static bool IsSubjectRef(string? value) => value is not null && SubjectRefPattern().IsMatch(value);

    // 128 random bits: unlinkable to the member id without this table.
    private static string NewSubjectRef() => "sub-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    [GeneratedRegex("^sub-[0-9a-f]{32}$", RegexOptions.CultureInvariant)]
    private static partial Regex SubjectRefPattern();
}
