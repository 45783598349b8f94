using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>One chain the purge left alone, and why.</summary>
public sealed record LedgerPurgeSkip(string SubjectRef, string Reason);

/// <summary>The result of <see cref="LedgerRetention.PurgeAsync"/>: rows deleted (or, on a dry run, that would be).</summary>
public sealed record LedgerPurgeResult(bool DryRun, int Chains, int ChainsPurged, long RowsPurged, IReadOnlyList<LedgerPurgeSkip> Skipped);

/// <summary>
/// Deletes ledger rows whose <c>RetainUntilUtc</c> (3 years, APPI Art. 29) has passed, oldest first, and keeps each
/// chain verifiable by re-anchoring it: the head gets <c>PurgedThroughSeq</c>, <c>AnchorHash</c> (the last purged
/// row's hash, which the first remaining row's PrevHash already names) and <c>AnchorRow</c> (that row's canonical
/// encoding, so the verifier can recompute the hash and see that the row really was past its retention).
/// </summary>
/// <remarks>
/// Rules: only a prefix of a chain is purged, never a row in the middle; an Intended row goes only together with its
/// outcome (a prefix stops before an intent whose outcome is not yet expired), so no outcome is left without its
/// intent; a chain that does not verify (on its own or against the signed digests) is left untouched and reported; and
/// only rows that signed time shows past retention are purged (a trusted digest line recorded the row, and the trusted
/// line before it, which had not, is older than the retention period), so the anchor is always one `ledger verify` finds vouched for. The purge writes a digest first (which verifies). Deletes and the head update go in one
/// entity-group transaction guarded by the head's ETag (99 deletes + head per transaction); a concurrent append
/// makes it re-read and retry. The head's Seq and Hash do not change, so the daily digest still matches.
/// </remarks>
public sealed class LedgerRetention(StorageAccount storage, TimeProvider time, ILogger<LedgerRetention> logger, LedgerDigests? digests = null)
{
    private readonly LedgerDigests _digests = digests ?? new LedgerDigests(storage, time);

    private const int MaxDeletesPerTransaction = 99;
    private const int MaxAttempts = 10;

    private TableClient Table => storage.Table(TableNames.DisclosureLedger);

    public async Task<LedgerPurgeResult> PurgeAsync(bool dryRun = false, CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var now = time.GetUtcNow();
        var verification = await new LedgerVerifier(storage, _digests, time).VerifyAsync(cancellationToken);
        var broken = verification.ChainFindings.GroupBy(f => f.SubjectRef, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().ToString(), StringComparer.Ordinal);
        var trustedLines = verification.Log.TrustedLines.ToList();
        if (broken.Count == 0)
        {
            // Digest first: the line it signs is the one a later verify finds the new anchors' rows in (a dry run counts as if it had).
            var written = dryRun
                ? new LedgerDigest(now, verification.Heads.Count, string.Empty, verification.Log.LastTrusted?.Digest?.Digest ?? LedgerRow.GenesisHash, string.Empty)
                : await _digests.WriteAsync(verification, cancellationToken);
            trustedLines.Add(new DigestLine(int.MaxValue, written, verification.Heads, []));
        }

        var claims = DigestClaim.BySubject(trustedLines);
        var partitions = new List<string>();
        var filter = TableClient.CreateQueryFilter($"RowKey eq {LedgerRow.HeadRowKey}");
        await foreach (var head in Table.QueryAsync<TableEntity>(filter, select: ["PartitionKey"], cancellationToken: cancellationToken))
        {
            partitions.Add(head.PartitionKey);
        }

        var skipped = new List<LedgerPurgeSkip>();
        var chainsPurged = 0;
        long rowsPurged = 0;
        foreach (var subjectRef in partitions)
        {
            var (purged, skip) = broken.TryGetValue(subjectRef, out var finding)
                ? (0, new LedgerPurgeSkip(subjectRef, $"the chain does not verify: {finding}"))
                : await PurgeChainAsync(subjectRef, claims.GetValueOrDefault(subjectRef) ?? [], now, dryRun, cancellationToken);
            if (skip is not null)
            {
                skipped.Add(skip);
                logger.LogWarning("Ledger chain {SubjectRef} not purged: {Reason}", subjectRef, skip.Reason);
            }

            if (purged > 0)
            {
                chainsPurged++;
                rowsPurged += purged;
            }
        }

        logger.LogInformation("Ledger retention purge{DryRun}: {Rows} rows past retention in {ChainsPurged} of {Chains} chains, {Skipped} chains skipped",
            dryRun ? " (dry run)" : string.Empty, rowsPurged, chainsPurged, partitions.Count, skipped.Count);
        return new LedgerPurgeResult(dryRun, partitions.Count, chainsPurged, rowsPurged, skipped);
    }

    private async Task<(long Purged, LedgerPurgeSkip? Skip)> PurgeChainAsync(string subjectRef, IReadOnlyList<DigestClaim> claims, DateTimeOffset now, bool dryRun, CancellationToken cancellationToken)
    {
        long purged = 0;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var (head, rows) = await ReadAsync(subjectRef, cancellationToken);
            if (head is null)
            {
                return (purged, null);
            }

            var plan = Plan(subjectRef, head, rows, now, claims, out var problem);
            if (problem is not null)
            {
                return (purged, new LedgerPurgeSkip(subjectRef, problem));
            }

            if (plan.Count == 0)
            {
                return (purged, null);
            }

            if (dryRun)
            {
                return (plan.Count, null);
            }

            var batch = plan.Take(MaxDeletesPerTransaction).ToList();
            var last = batch[^1];
            var anchor = new TableEntity(subjectRef, LedgerRow.HeadRowKey)
            {
                [LedgerRow.PurgedThroughSeq] = last.GetInt64(LedgerRow.Seq),
                [LedgerRow.AnchorHash] = last.GetString(LedgerRow.Hash),
                [LedgerRow.AnchorRow] = LedgerRow.CanonicalEncoding(last),
                [LedgerRow.PurgedAtUtc] = LedgerRow.Truncate(now),
            };
            var actions = batch.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, r.ETag)).ToList();
            actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateMerge, anchor, head.ETag));
            try
            {
                await Table.SubmitTransactionAsync(actions, cancellationToken);
                purged += batch.Count;
                attempt = 0; // progress: the next batch gets fresh attempts
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 412 or 404)
            {
                // Appended to or purged concurrently: read again.
            }
        }

        return (purged, new LedgerPurgeSkip(subjectRef, $"the chain changed concurrently on each of {MaxAttempts} attempts"));
    }

    /// <summary>The rows to delete, oldest first; or a problem that means the chain must not be touched.</summary>
    /// <remarks>A row is past retention only when its own RetainUntilUtc has passed and signed time agrees (<see cref="DigestClaim.SignedPastRetention"/>).</remarks>
    internal static List<TableEntity> Plan(string subjectRef, TableEntity head, IReadOnlyList<TableEntity> rows, DateTimeOffset now, IReadOnlyList<DigestClaim> claims, out string? problem)
    {
        problem = null;
        var purgedThrough = head.GetInt64(LedgerRow.PurgedThroughSeq) ?? 0;
        var previousHash = purgedThrough > 0 ? head.GetString(LedgerRow.AnchorHash) ?? string.Empty : LedgerRow.GenesisHash;
        var expectedSeq = purgedThrough + 1;
        var prefix = new List<TableEntity>();
        foreach (var row in rows)
        {
            var seq = row.GetInt64(LedgerRow.Seq);
            if (row.RowKey != LedgerRow.RowKeyOf(expectedSeq) || seq != expectedSeq
                || LedgerRow.ComputeHash(row) != row.GetString(LedgerRow.Hash) || row.GetString(LedgerRow.PrevHash) != previousHash)
            {
                // Purging over a break would launder it: leave the chain for `ledger verify` to report.
                problem = $"the chain does not verify at row {row.RowKey}";
                return [];
            }

            previousHash = row.GetString(LedgerRow.Hash)!;
            expectedSeq++;
            if (row.GetDateTimeOffset(LedgerRow.RetainUntilUtc) is not { } retainUntil || retainUntil >= now || !DigestClaim.SignedPastRetention(claims, seq ?? 0, now))
            {
                break;
            }

            prefix.Add(row);
        }

        // An intent goes only with its outcome: cut the prefix before the first intent whose outcome stays.
        var kept = rows.Skip(prefix.Count)
            .Where(r => r.GetString(LedgerRow.Outcome) != nameof(DisclosureOutcome.Intended))
            .Select(r => r.GetInt64(LedgerRow.IntentSeq))
            .OfType<long>()
            .ToHashSet();
        var cut = prefix.FindIndex(r => kept.Contains(r.GetInt64(LedgerRow.Seq) ?? -1));
        return cut < 0 ? prefix : prefix[..cut];
    }

    private async Task<(TableEntity? Head, List<TableEntity> Rows)> ReadAsync(string subjectRef, CancellationToken cancellationToken)
    {
        TableEntity? head = null;
        var rows = new List<TableEntity>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {subjectRef}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (LedgerRow.IsHead(row))
            {
                head = row;
            }
            else
            {
                rows.Add(row);
            }
        }

        return (head, rows);
    }
}
