using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Telemetry;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>One disclosure about to happen: which member's data, in which role, for which purpose and booking.</summary>
public sealed record DisclosureIntent(
    DisclosurePurpose Purpose,
    string Operation,
    string MemberId,
    SubjectRole Role,
    string ConsentRecordId,
    string CorrelationId,
    string? BookingId = null,
    string? ProviderObjectId = null,
    IReadOnlyList<string>? DataItems = null)
{
    /// <summary>
    /// The chain of an erased member, named by the pseudonym their scrubbed booking row keeps (<see cref="ErasedSubject"/>),
    /// with an empty <see cref="MemberId"/>: the mapping is sealed, so the row cannot be found through it.
    /// </summary>
    public string? ErasedSubjectRef { get; init; }
}

/// <summary>The receipt for a recorded intent: pass it to the request's <see cref="DisclosureContext"/> and later to the outcome.</summary>
public sealed record DisclosureHandle
{
    internal DisclosureHandle(LedgerEntry intent) => Intent = intent;

    public LedgerEntry Intent { get; }

    public string SubjectRef => Intent.SubjectRef;

    public long Seq => Intent.Seq;

    public SubjectRole Role => Intent.Role;

    public string PurposeId => Intent.PurposeId;
}

/// <summary>The result of one disclosure, for <see cref="DisclosureLedger.RecordOutcomesAsync"/>.</summary>
public sealed record DisclosureResult(DisclosureHandle Handle, DisclosureOutcome Outcome, string? ProviderObjectId = null);

/// <summary>
/// Table <c>DisclosureLedger</c>: every disclosure of personal data as an Intended row before the request and a
/// Succeeded or Failed row after, hash-chained per subject (PartitionKey pseudonym, RowKey sequence number).
/// An append inserts the rows and moves the head in one entity-group transaction guarded by the head's ETag,
/// so concurrent writers can neither fork a chain nor lose a row.
/// </summary>
public sealed class DisclosureLedger(StorageAccount storage, SubjectRegistry subjects, TimeProvider time, LedgerMetrics metrics, ILogger<DisclosureLedger> logger)
{
    /// <summary>APPI Art. 29 and its rules: records are kept for 3 years.</summary>
    public static readonly int RetentionYears = 3;

    // 100 operations per entity-group transaction, one of them the head.
    internal const int MaxRowsPerAppend = 99;
    private const int MaxAttempts = 60;
    private const int MaxCachedHeads = 10_000;

    // Last known head per chain, so a warm append is one request; a stale entry only costs a 412 and a re-read.
    private readonly ConcurrentDictionary<string, ChainHead> _heads = new(StringComparer.Ordinal);

    private TableClient Table => storage.Table(TableNames.DisclosureLedger);

    /// <summary>
    /// Writes Intended rows before the requests go out: one transaction per member, however many intents a
    /// booking has for them. Handles come back in the order of <paramref name="intents"/>.
    /// </summary>
    public async Task<IReadOnlyList<DisclosureHandle>> RecordIntentsAsync(IEnumerable<DisclosureIntent> intents, CancellationToken cancellationToken = default)
    {
        var list = intents.ToList();
        await storage.EnsureProvisionedAsync(cancellationToken);
        var now = LedgerRow.Truncate(time.GetUtcNow());
        var subjectRefs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var memberId in list.Where(i => i.ErasedSubjectRef is null).Select(i => i.MemberId).Distinct(StringComparer.Ordinal))
        {
            subjectRefs[memberId] = await subjects.GetOrCreateAsync(memberId, cancellationToken);
        }

        var drafts = list.Select(i => Draft(i, i.ErasedSubjectRef is { } erased ? ErasedChain(i, erased) : subjectRefs[i.MemberId], now)).ToList();
        var written = await AppendGroupedAsync(drafts, cancellationToken);
        return written.Select(e => new DisclosureHandle(e)).ToList();
    }

    public async Task<DisclosureHandle> RecordIntentAsync(DisclosureIntent intent, CancellationToken cancellationToken = default) =>
        (await RecordIntentsAsync([intent], cancellationToken))[0];

    /// <summary>Writes Succeeded or Failed rows after the requests: one transaction per member.</summary>
    public async Task RecordOutcomesAsync(IEnumerable<DisclosureResult> results, CancellationToken cancellationToken = default)
    {
        var now = LedgerRow.Truncate(time.GetUtcNow());
        var drafts = results.Select(r =>
        {
            if (r.Outcome == DisclosureOutcome.Intended)
            {
                throw new ArgumentException("An outcome is Succeeded or Failed.", nameof(results));
            }

            return r.Handle.Intent with
            {
                Seq = 0,
                ProvidedAtUtc = now,
                Outcome = r.Outcome,
                IntentSeq = r.Handle.Seq,
                ProviderObjectId = r.ProviderObjectId ?? r.Handle.Intent.ProviderObjectId,
                RetainUntilUtc = now.AddYears(RetentionYears),
            };
        }).ToList();
        await storage.EnsureProvisionedAsync(cancellationToken);
        await AppendGroupedAsync(drafts, cancellationToken);
    }

    public Task RecordOutcomeAsync(DisclosureHandle handle, DisclosureOutcome outcome, string? providerObjectId = null, CancellationToken cancellationToken = default) =>
        RecordOutcomesAsync([new DisclosureResult(handle, outcome, providerObjectId)], cancellationToken);

    /// <summary>The rows of one subject's chain, oldest first (the head excluded).</summary>
    public async Task<IReadOnlyList<LedgerEntry>> ReadChainAsync(string subjectRef, CancellationToken cancellationToken = default)
    {
        var rows = new List<LedgerEntry>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {subjectRef} and RowKey ne {LedgerRow.HeadRowKey}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            rows.Add(LedgerRow.FromEntity(row));
        }

        return rows;
    }

    /// <summary>
    /// Intents with no outcome that are at least <paramref name="minimumAge"/> old: the requests may or may not
    /// have gone out (the worker stopped between the call and the outcome). <see cref="CloseInDoubtAsync"/> closes them.
    /// </summary>
    public async IAsyncEnumerable<DisclosureHandle> FindInDoubtAsync(TimeSpan minimumAge, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var cutoff = time.GetUtcNow() - minimumAge;
        var open = new List<LedgerEntry>();
        var resolved = new HashSet<long>();
        string? partition = null;
        await foreach (var row in Table.QueryAsync<TableEntity>(cancellationToken: cancellationToken))
        {
            if (row.PartitionKey != partition)
            {
                foreach (var handle in Unresolved(open, resolved, cutoff))
                {
                    yield return handle;
                }

                (partition, open, resolved) = (row.PartitionKey, [], []);
            }

            if (LedgerRow.IsHead(row))
            {
                continue;
            }

            var entry = LedgerRow.FromEntity(row);
            if (entry.Outcome == DisclosureOutcome.Intended)
            {
                open.Add(entry);
            }
            else if (entry.IntentSeq is { } intentSeq)
            {
                resolved.Add(intentSeq);
            }
        }

        foreach (var handle in Unresolved(open, resolved, cutoff))
        {
            yield return handle;
        }
    }

    /// <summary>
    /// Closes every intent in doubt for at least <paramref name="minimumAge"/> with a Failed outcome: its worker stopped
    /// before it learned the answer, so the call is not confirmed. The intent row stays and keeps listing the data items
    /// that may have gone (the export shows it as a disclosure either way), and whatever the provider holds now was
    /// recorded by the converge that repaired the booking, with its own look-up or call rows. Returns how many were closed.
    /// </summary>
    public async Task<int> CloseInDoubtAsync(TimeSpan minimumAge, CancellationToken cancellationToken = default)
    {
        var open = new List<DisclosureHandle>();
        await foreach (var handle in FindInDoubtAsync(minimumAge, cancellationToken))
        {
            open.Add(handle);
        }

        // Outcomes of one subject go in one transaction: at most MaxRowsPerAppend at a time.
        foreach (var chunk in open.Chunk(MaxRowsPerAppend))
        {
            await RecordOutcomesAsync(chunk.Select(h => new DisclosureResult(h, DisclosureOutcome.Failed)), cancellationToken);
        }

        if (open.Count > 0)
        {
            logger.LogWarning("Closed {Count} disclosure intent(s) left in doubt by a stopped worker as Failed", open.Count);
        }

        return open.Count;
    }

    private static IEnumerable<DisclosureHandle> Unresolved(List<LedgerEntry> open, HashSet<long> resolved, DateTimeOffset cutoff) =>
        open.Where(e => !resolved.Contains(e.Seq) && e.ProvidedAtUtc <= cutoff).Select(e => new DisclosureHandle(e));

    /// <summary>An erased member's chain is written only by pseudonym, never next to a member id that could re-link it.</summary>
    private static string ErasedChain(DisclosureIntent intent, string subjectRef) =>
        intent.MemberId.Length == 0 && SubjectRegistry.IsSubjectRef(subjectRef)
            ? subjectRef
            : throw new ArgumentException("An erased member's intent names a pseudonym and no member id.", nameof(intent));

    private static LedgerEntry Draft(DisclosureIntent intent, string subjectRef, DateTimeOffset now)
    {
        var purpose = intent.Purpose;
        var allowed = purpose.DataItemsOf(intent.Role);
        var items = intent.DataItems ?? allowed;
        var foreign = items.FirstOrDefault(i => !allowed.Contains(i));
        if (foreign is not null)
        {
            throw new ArgumentException($"Data item '{foreign}' is not {intent.Role} data allowlisted for {purpose.Id}.", nameof(intent));
        }

        if (items.Count == 0)
        {
            throw new ArgumentException($"{purpose.Id} carries no {intent.Role} data: no ledger row is needed.", nameof(intent));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(intent.ConsentRecordId);
        ArgumentException.ThrowIfNullOrWhiteSpace(intent.Operation);
        return new LedgerEntry(
            subjectRef, 0, now, purpose.Recipient.LegalName, purpose.Recipient.Country, purpose.Id, purpose.Description,
            purpose.PolicyClause, intent.Role, items, purpose.LegalBasis, intent.ConsentRecordId, intent.BookingId,
            intent.ProviderObjectId, intent.Operation, DisclosureOutcome.Intended, null, intent.CorrelationId,
            now.AddYears(RetentionYears), string.Empty, string.Empty);
    }

    /// <summary>Appends each subject's drafts in one transaction; returns the written entries in the drafts' order.</summary>
    private async Task<IReadOnlyList<LedgerEntry>> AppendGroupedAsync(List<LedgerEntry> drafts, CancellationToken cancellationToken)
    {
        var groups = drafts.Select((draft, index) => (draft, index)).GroupBy(d => d.draft.SubjectRef, StringComparer.Ordinal).ToList();
        var written = new LedgerEntry[drafts.Count];
        await Task.WhenAll(groups.Select(async group =>
        {
            var rows = await AppendAsync(group.Key, group.Select(g => g.draft).ToList(), cancellationToken);
            foreach (var ((_, index), row) in group.Zip(rows))
            {
                written[index] = row;
            }
        }));
        return written;
    }

    private async Task<IReadOnlyList<LedgerEntry>> AppendAsync(string subjectRef, List<LedgerEntry> drafts, CancellationToken cancellationToken)
    {
        if (drafts.Count > MaxRowsPerAppend)
        {
            throw new ArgumentException($"At most {MaxRowsPerAppend} rows per subject fit one transaction.", nameof(drafts));
        }

        var table = Table;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var head = _heads.TryGetValue(subjectRef, out var cached) ? cached : await ReadHeadAsync(table, subjectRef, cancellationToken);
            var (rows, entities) = Chain(drafts, head);
            var headEntity = new TableEntity(subjectRef, LedgerRow.HeadRowKey)
            {
                [LedgerRow.Seq] = rows[^1].Seq,
                [LedgerRow.Hash] = rows[^1].Hash,
            };
            var actions = entities.Select(e => new TableTransactionAction(TableTransactionActionType.Add, e)).ToList();
            actions.Add(head is null
                ? new TableTransactionAction(TableTransactionActionType.Add, headEntity)
                : new TableTransactionAction(TableTransactionActionType.UpdateMerge, headEntity, head.ETag)); // merge: keeps a purge anchor
            try
            {
                var response = await table.SubmitTransactionAsync(actions, cancellationToken);
                Remember(subjectRef, response.Value[^1].Headers.ETag, rows[^1]);
                metrics.Append(LedgerMetrics.Appended);
                return rows;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412)
            {
                // Another writer moved the head first: re-read it and chain after its rows.
                metrics.Append(LedgerMetrics.HeadConflict);
                _heads.TryRemove(subjectRef, out _);
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 * Math.Min(attempt, 20))), cancellationToken);
            }
        }

        metrics.Append(LedgerMetrics.GaveUp);
        logger.LogError("Ledger append for subject {SubjectRef} lost the head race {Attempts} times", subjectRef, MaxAttempts);
        throw new LedgerAppendConflictException(subjectRef, MaxAttempts);
    }

    private static (List<LedgerEntry> Rows, List<TableEntity> Entities) Chain(List<LedgerEntry> drafts, ChainHead? head)
    {
        var seq = head?.Seq ?? 0;
        var prevHash = head?.Hash ?? LedgerRow.GenesisHash;
        var rows = new List<LedgerEntry>(drafts.Count);
        var entities = new List<TableEntity>(drafts.Count);
        foreach (var draft in drafts)
        {
            var row = draft with { Seq = ++seq, PrevHash = prevHash, Hash = string.Empty };
            var entity = LedgerRow.ToEntity(row);
            var hash = LedgerRow.ComputeHash(entity);
            entity[LedgerRow.Hash] = hash;
            rows.Add(row with { Hash = hash });
            entities.Add(entity);
            prevHash = hash;
        }

        return (rows, entities);
    }

    private static async Task<ChainHead?> ReadHeadAsync(TableClient table, string subjectRef, CancellationToken cancellationToken)
    {
        var head = await table.GetEntityIfExistsAsync<TableEntity>(subjectRef, LedgerRow.HeadRowKey, cancellationToken: cancellationToken);
        return head.HasValue
            ? new ChainHead(head.Value!.GetInt64(LedgerRow.Seq) ?? 0, head.Value.GetString(LedgerRow.Hash) ?? LedgerRow.GenesisHash, head.Value.ETag)
            : null;
    }

    private void Remember(string subjectRef, ETag? etag, LedgerEntry last)
    {
        if (etag is not { } value)
        {
            _heads.TryRemove(subjectRef, out _);
            return;
        }

        if (_heads.Count >= MaxCachedHeads)
        {
            _heads.Clear();
        }

        _heads[subjectRef] = new ChainHead(last.Seq, last.Hash, value);
    }

    private sealed record ChainHead(long Seq, string Hash, ETag ETag);
}

/// <summary>Settings of section <c>Ledger</c>.</summary>
public sealed class DisclosureLedgerOptions
{
    public const string SectionName = "Ledger";

    /// <summary>
    /// How old an intent without an outcome must be before the nightly jobs close it as Failed: longer than any call can
    /// still be in flight (the Functions timeout is 5 minutes).
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan InDoubtAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often <c>LedgerDigestSchedule</c> (<c>0 */15 * * * *</c>) writes a signed digest line.</summary>
    public static readonly TimeSpan DigestInterval = TimeSpan.FromMinutes(15);

    /// <summary>Two digest runs missed plus one interval of slack (45 minutes): `ledger verify` reports an older newest line.</summary>
    public static readonly TimeSpan DefaultDigestMaxAge = (2 * DigestInterval) + DigestInterval;

    /// <summary>How old the newest signed digest line may be before `ledger verify` and the digest job report the log as stale.</summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan DigestMaxAge { get; set; } = DefaultDigestMaxAge;
}

/// <summary>An append kept losing the race for a chain's head; nothing was written, and the caller may retry later.</summary>
public sealed class LedgerAppendConflictException(string subjectRef, int attempts)
    : Exception($"Ledger chain {subjectRef} changed concurrently on each of {attempts} attempts.")
{
    public string SubjectRef { get; } = subjectRef;
}
