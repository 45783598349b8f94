using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>
/// Table <c>Subjects</c>: each member's random ledger pseudonym (PartitionKey memberId, RowKey "subject") with its keyed
/// commitment (<see cref="MemberKeys.SubjectCommitment"/>), one tombstone per erased member (PartitionKey <c>~erased</c>,
/// RowKey the keyed erasure id, never the member id), and one marker per erased member's chain (PartitionKey
/// <c>~erased-chains</c>, RowKey <see cref="MemberKeys.ErasedChainCommitment"/>: neither the member nor the pseudonym in the clear), so <see cref="SubjectMappingVerifier"/> can tell an erasure from a deleted mapping.
/// The tombstone is written as an erasure starts and refuses every new pseudonym for the member from then on; when
/// the erasure completes the mapping is sealed into it for the privacy office (APPI Art. 29: the records must still
/// identify the person for their retention) and the plain row is deleted; the tombstone and the sealed mapping are
/// destroyed once the last record's retention has passed (policy §9).
/// </summary>
public sealed partial class SubjectRegistry(StorageAccount storage, MemberKeys keys, IOptions<ErasureKeysOptions> erasureKeys, TimeProvider time)
{
    private const string RowKey = "subject";
    private const string SubjectRefColumn = "SubjectRef";
    internal const string CommitColumn = "SubjectCommit";

    /// <summary>'~' is outside every member id's alphabet, so no member's partition can be this one.</summary>
    internal const string TombstonePartition = "~erased";
    internal const string SealedColumn = "SealedMapping";
    internal const string RetainUntilColumn = "RetainUntilUtc";

    /// <summary>Markers of erased members' chains: '~' keeps this partition apart from every member's too.</summary>
    internal const string ErasedChainPartition = "~erased-chains";

    /// <summary>A tombstone outlives even a member with no record by this much: late events and webhook retries come within days.</summary>
    public static readonly TimeSpan MinimumTombstoneLifetime = TimeSpan.FromDays(90);

    /// <summary>
    /// How long this instance reuses a pseudonym it has read. A pseudonym never changes while it exists; sealing drops it
    /// here at once, and another instance for at most this long, by when the erasure has marked every booking of the
    /// member erased, so no converger discloses their data to be recorded under it.
    /// </summary>
    public static readonly TimeSpan KnownSubjectLifetime = TimeSpan.FromMinutes(5);

    // Member id -> pseudonym: each disclosure would otherwise read Subjects once per party.
    private readonly RememberedValues<string> _known = new();

    private TableClient Table => storage.Table(TableNames.Subjects);

    /// <summary>The member's pseudonym, created on their first disclosure (a concurrent creator wins and is reused).</summary>
    public async Task<string> GetOrCreateAsync(string memberId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(memberId);
        var now = time.GetUtcNow();
        if (_known.TryGet(memberId, now, out var known))
        {
            return known;
        }

        var existing = await FindAsync(memberId, cancellationToken);
        if (existing is not null)
        {
            return _known.Remember(memberId, existing, now + KnownSubjectLifetime);
        }

        if (await IsErasedAsync(memberId, cancellationToken))
        {
            throw new MemberErasedException();
        }

        var subjectRef = NewSubjectRef();
        try
        {
            await Table.AddEntityAsync(
                new TableEntity(memberId, RowKey)
                {
                    [SubjectRefColumn] = subjectRef,
                    [CommitColumn] = keys.SubjectCommitment(memberId, subjectRef),
                    ["CreatedAtUtc"] = time.GetUtcNow(),
                },
                cancellationToken);
            return _known.Remember(memberId, subjectRef, now + KnownSubjectLifetime);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return await FindAsync(memberId, cancellationToken)
                ?? throw new InvalidOperationException("A subject mapping was created and removed concurrently; retry.");
        }
    }

    /// <summary>
    /// The member's pseudonym, or null when they never had a disclosure or were erased. Throws
    /// <see cref="SubjectMappingTamperedException"/> when the mapping's commitment does not hold: whatever it names is
    /// not the member's chain, so no record is read from it or written to it. Always read, never remembered.
    /// </summary>
    public async Task<string?> FindAsync(string memberId, CancellationToken cancellationToken = default)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(memberId, RowKey, [SubjectRefColumn, CommitColumn], cancellationToken);
        if (!row.HasValue)
        {
            return null;
        }

        var subjectRef = row.Value!.GetString(SubjectRefColumn);
        return subjectRef is not null && MemberKeys.Matches(row.Value.GetString(CommitColumn), keys.SubjectCommitment(memberId, subjectRef))
            ? subjectRef
            : throw new SubjectMappingTamperedException(subjectRef);
    }

    /// <summary>True once an erasure of the member has started (until its tombstone's retention ends).</summary>
    public async Task<bool> IsErasedAsync(string memberId, CancellationToken cancellationToken = default) =>
        (await Table.GetEntityIfExistsAsync<TableEntity>(TombstonePartition, keys.ErasureId(memberId), ["PartitionKey"], cancellationToken)).HasValue;

    /// <summary>True when any of the members has been erased: one query, for the event intake's hot path.</summary>
    public async Task<bool> AnyErasedAsync(IEnumerable<string> memberIds, CancellationToken cancellationToken = default)
    {
        var ids = memberIds.Where(id => id.Length > 0).Distinct(StringComparer.Ordinal).Select(keys.ErasureId).ToList();
        if (ids.Count == 0)
        {
            return false;
        }

        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TombstonePartition}") + " and (" +
            string.Join(" or ", ids.Select(id => TableClient.CreateQueryFilter($"RowKey eq {id}"))) + ")";
        await foreach (var _ in Table.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: ["PartitionKey"], cancellationToken: cancellationToken))
        {
            return true;
        }

        return false;
    }

    /// <summary>Erasure starts: from now on no new pseudonym is made for the member. The existing one still serves the erasure's own records.</summary>
    public async Task MarkErasedAsync(string memberId, CancellationToken cancellationToken = default)
    {
        try
        {
            await Table.AddEntityAsync(new TableEntity(TombstonePartition, keys.ErasureId(memberId)) { ["ErasedAtUtc"] = time.GetUtcNow() }, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // A retried erasure: the tombstone is already there.
        }
    }

    /// <summary>
    /// Erasure completes: seals the mapping under the privacy office's public key into the tombstone, which is kept
    /// until <paramref name="retainUntil"/> (the last record's retention), and deletes the plain row, so the app can
    /// no longer tell whose records these are. True when a mapping was sealed.
    /// </summary>
    public async Task<bool> SealAsync(string memberId, DateTimeOffset retainUntil, CancellationToken cancellationToken = default)
    {
        var erasureId = keys.ErasureId(memberId);
        _known.Forget(memberId);
        var subjectRef = await FindAsync(memberId, cancellationToken);
        var keepUntil = Max(retainUntil, time.GetUtcNow() + MinimumTombstoneLifetime);
        var earlier = await Table.GetEntityIfExistsAsync<TableEntity>(TombstonePartition, erasureId, [RetainUntilColumn], cancellationToken);
        if (earlier.HasValue && earlier.Value!.GetDateTimeOffset(RetainUntilColumn) is { } sealedUntil)
        {
            // A retry after a crash no longer sees the chain: it must never shorten what the first run kept.
            keepUntil = Max(keepUntil, sealedUntil);
        }

        var tombstone = new TableEntity(TombstonePartition, erasureId) { [RetainUntilColumn] = keepUntil, ["SealedAtUtc"] = time.GetUtcNow() };
        if (subjectRef is not null)
        {
            var publicKey = KeyRing.DecodeKey(erasureKeys.Value.PrivacyOfficePublicKey)
                ?? throw new InvalidOperationException($"{ErasureKeysOptions.Section}:PrivacyOfficePublicKey is not configured.");
            tombstone[SealedColumn] = SealedSubject.Seal(publicKey, erasureId, new SubjectMapping(memberId, subjectRef));
        }

        // The sealed copy and the chain's marker are written before the plain row goes: a crash in between leaves all, and the retry finishes.
        await Table.UpsertEntityAsync(tombstone, TableUpdateMode.Merge, cancellationToken);
        if (subjectRef is null)
        {
            return false;
        }

        await Table.UpsertEntityAsync(
            new TableEntity(ErasedChainPartition, keys.ErasedChainCommitment(subjectRef)) { [RetainUntilColumn] = keepUntil },
            TableUpdateMode.Merge, cancellationToken);

        try
        {
            await Table.DeleteEntityAsync(memberId, RowKey, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Deleted by a concurrent retry.
        }

        // Dropped again: a disclosure of this instance may have remembered it while the seal was being written.
        _known.Forget(memberId);
        return true;
    }

    /// <summary>
    /// A record written after the erasure (a late recording deleted at Zoom) lives until <paramref name="retainUntil"/>:
    /// the tombstone with its sealed mapping, and the chain's erased marker, must outlive it, so the record still
    /// identifies the person and verify still reads the chain as erased, not unlinked. Never shortens.
    /// </summary>
    public async Task KeepTombstoneUntilAsync(ErasedSubject erased, DateTimeOffset retainUntil, CancellationToken cancellationToken = default)
    {
        await ExtendAsync(TombstonePartition, erased.ErasureId);
        await ExtendAsync(ErasedChainPartition, keys.ErasedChainCommitment(erased.SubjectRef));

        async Task ExtendAsync(string partition, string rowKey)
        {
            var row = await Table.GetEntityIfExistsAsync<TableEntity>(partition, rowKey, [RetainUntilColumn], cancellationToken);
            if (row.HasValue && row.Value!.GetDateTimeOffset(RetainUntilColumn) is { } keptUntil && keptUntil >= retainUntil)
            {
                return;
            }

            await Table.UpsertEntityAsync(new TableEntity(partition, rowKey) { [RetainUntilColumn] = retainUntil }, TableUpdateMode.Merge, cancellationToken);
        }
    }

    /// <summary>The sealed mapping of an erased member, for the privacy office to open; null when there is none.</summary>
    public async Task<(string ErasureId, string Sealed, DateTimeOffset? RetainUntil)?> FindSealedAsync(string memberId, CancellationToken cancellationToken = default)
    {
        var erasureId = keys.ErasureId(memberId);
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(TombstonePartition, erasureId, [SealedColumn, RetainUntilColumn], cancellationToken);
        return row.HasValue && row.Value!.GetString(SealedColumn) is { Length: > 0 } sealedValue
            ? (erasureId, sealedValue, row.Value.GetDateTimeOffset(RetainUntilColumn))
            : null;
    }

    /// <summary>
    /// The privacy office opens an erased member's sealed mapping with its private key (for the member's own
    /// APPI Art. 33(5) request or a regulator). It tries every sealed mapping, so it needs no app secret; null when
    /// none is the member's (never erased, or destroyed after retention).
    /// </summary>
    public async Task<(SubjectMapping Mapping, DateTimeOffset? RetainUntil)?> OpenSealedAsync(string memberId, string privateKeyPem, CancellationToken cancellationToken = default)
    {
        var (opened, refused) = (0, 0);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TombstonePartition}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, select: ["RowKey", SealedColumn, RetainUntilColumn], cancellationToken: cancellationToken))
        {
            if (row.GetString(SealedColumn) is not { Length: > 0 } sealedValue)
            {
                continue;
            }

            SubjectMapping mapping;
            try
            {
                mapping = SealedSubject.Open(privateKeyPem, row.RowKey, sealedValue);
                opened++;
            }
            catch (SealedSubjectException)
            {
                // Sealed under another office key, or altered: the others may still open.
                refused++;
                continue;
            }

            if (string.Equals(mapping.MemberId, memberId, StringComparison.Ordinal))
            {
                return (mapping, row.GetDateTimeOffset(RetainUntilColumn));
            }
        }

        return opened == 0 && refused > 0
            ? throw new SealedSubjectException($"None of the {refused} sealed mappings opens with this private key.")
            : null;
    }

    /// <summary>
    /// Destroys the tombstones and sealed mappings whose retention has passed (run with the ledger's retention purge),
    /// and the erased chains' markers with them; returns how many tombstones went.
    /// </summary>
    public async Task<int> PurgeExpiredTombstonesAsync(CancellationToken cancellationToken = default)
    {
        await PurgeExpiredAsync(ErasedChainPartition, cancellationToken);
        return await PurgeExpiredAsync(TombstonePartition, cancellationToken);
    }

    private async Task<int> PurgeExpiredAsync(string partition, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var purged = 0;
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey", RetainUntilColumn], cancellationToken: cancellationToken))
        {
            // A tombstone without RetainUntil belongs to an erasure still pending: it stays.
            if (row.GetDateTimeOffset(RetainUntilColumn) is { } retainUntil && retainUntil < now)
            {
                await Table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
                purged++;
            }
        }

        return purged;
    }

    /// <summary>
    /// One-time migration of a table written before commitments: adds the commitment to every member's mapping that has
    /// none and, given the privacy office's private key, a marker for each chain an earlier erasure sealed (it opens
    /// the sealed mappings for that). It trusts the table as it stands, so run it right after a clean <c>ledger verify</c>.
    /// </summary>
    public async Task<(int Committed, int Marked)> CommitUncommittedAsync(string? privateKeyPem, CancellationToken cancellationToken = default)
    {
        var (committed, marked) = (0, 0);
        string[] columns = ["PartitionKey", "RowKey", SubjectRefColumn, CommitColumn, SealedColumn, RetainUntilColumn];
        await foreach (var row in Table.QueryAsync<TableEntity>(select: columns, cancellationToken: cancellationToken))
        {
            if (row.RowKey == RowKey && !row.PartitionKey.StartsWith('~') && row.GetString(CommitColumn) is null && row.GetString(SubjectRefColumn) is { } subjectRef)
            {
                // ETag-guarded: a mapping changed since it was read is left for the next run.
                await Table.UpdateEntityAsync(new TableEntity(row.PartitionKey, RowKey) { [CommitColumn] = keys.SubjectCommitment(row.PartitionKey, subjectRef) }, row.ETag, TableUpdateMode.Merge, cancellationToken);
                committed++;
            }
            else if (privateKeyPem is not null && row.PartitionKey == TombstonePartition && row.GetString(SealedColumn) is { Length: > 0 } sealedValue)
            {
                var mapping = SealedSubject.Open(privateKeyPem, row.RowKey, sealedValue);
                var marker = new TableEntity(ErasedChainPartition, keys.ErasedChainCommitment(mapping.SubjectRef))
                {
                    [RetainUntilColumn] = row.GetDateTimeOffset(RetainUntilColumn),
                };
                try
                {
                    await Table.AddEntityAsync(marker, cancellationToken);
                    marked++;
                }
                catch (RequestFailedException ex) when (ex.Status == 409)
                {
                    // Erased after commitments came: its marker is already there.
                }
            }
        }

        return (committed, marked);
    }

    /// <summary>True for a pseudonym this registry makes; anything else never names a subject's rows.</summary>
    public static bool IsSubjectRef(string? value) => value is not null && SubjectRefPattern().IsMatch(value);

    // 128 random bits: unlinkable to the member id without this table.
    private static string NewSubjectRef() => "sub-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    [GeneratedRegex("^sub-[0-9a-f]{32}$", RegexOptions.CultureInvariant)]
    private static partial Regex SubjectRefPattern();
}
