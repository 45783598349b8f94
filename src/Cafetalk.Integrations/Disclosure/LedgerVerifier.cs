using System.Globalization;
using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>What kind of break verification found.</summary>
public enum LedgerFindingKind
{
    /// <summary>A row's content no longer matches its hash.</summary>
    Edited,
    /// <summary>A sequence number is missing: the row was deleted.</summary>
    Deleted,
    /// <summary>A row stands at another position than the one it was written at, or does not follow its predecessor.</summary>
    Reordered,
    /// <summary>The head row does not describe the chain's last row.</summary>
    HeadMismatch,
    /// <summary>The chain no longer contains the head the last digest recorded: it was rewritten after the digest.</summary>
    DigestMismatch,
    /// <summary>The digest log or its head list was altered.</summary>
    DigestTampered,
}

/// <summary>One break, naming the chain (subject pseudonym) and the row key where it shows.</summary>
public sealed record LedgerFinding(LedgerFindingKind Kind, string SubjectRef, string? RowKey, string Detail)
{
    public override string ToString() => $"{Kind}: chain {SubjectRef}" + (RowKey is null ? string.Empty : $" row {RowKey}") + $": {Detail}";
}

/// <summary>The result of <see cref="LedgerVerifier.VerifyAsync"/>.</summary>
public sealed record LedgerVerification(int Chains, long Rows, LedgerDigest? Digest, IReadOnlyList<LedgerFinding> Findings)
{
    public bool IsIntact => Findings.Count == 0;
}

/// <summary>Recomputes every chain from its rows and checks the chains against the last digest.</summary>
/// <remarks>
/// After a retention purge a chain starts at its anchor (<see cref="LedgerRetention"/>): the head's AnchorRow must hash
/// to AnchorHash, be the row at PurgedThroughSeq of this chain, be past its RetainUntilUtc now, and the first remaining
/// row's PrevHash must name it. Otherwise the missing rows are reported as deleted.
/// </remarks>
public sealed class LedgerVerifier(StorageAccount storage, LedgerDigests digests, TimeProvider time)
{
    public async Task<LedgerVerification> VerifyAsync(CancellationToken cancellationToken = default)
    {
        var findings = new List<LedgerFinding>();
        var now = time.GetUtcNow();
        var digest = await digests.ReadLastAsync(cancellationToken);
        if (digest is not null)
        {
            findings.AddRange(digest.Problems.Select(p => new LedgerFinding(LedgerFindingKind.DigestTampered, "-", null, p)));
        }

        var expected = digest?.Heads.ToDictionary(h => h.SubjectRef, StringComparer.Ordinal) ?? [];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var chains = 0;
        long rowCount = 0;
        var rows = new List<TableEntity>();
        TableEntity? head = null;
        string? partition = null;

        void Close()
        {
            if (partition is null)
            {
                return;
            }

            chains++;
            rowCount += rows.Count;
            seen.Add(partition);
            findings.AddRange(VerifyChain(partition, rows, head, expected.GetValueOrDefault(partition), now));
        }

        await foreach (var row in storage.Table(TableNames.DisclosureLedger).QueryAsync<TableEntity>(cancellationToken: cancellationToken))
        {
            if (row.PartitionKey != partition)
            {
                Close();
                (partition, rows, head) = (row.PartitionKey, [], null);
            }

            if (LedgerRow.IsHead(row))
            {
                head = row;
            }
            else
            {
                rows.Add(row);
            }
        }

        Close();
        findings.AddRange(expected.Keys.Where(k => !seen.Contains(k)).Select(k =>
            new LedgerFinding(LedgerFindingKind.DigestMismatch, k, null, "the whole chain is gone since the last digest")));
        return new LedgerVerification(chains, rowCount, digest?.Digest, findings);
    }

    /// <summary>Checks one chain; <paramref name="rows"/> are in row-key order, as the table returns them.</summary>
    internal static List<LedgerFinding> VerifyChain(string subjectRef, IReadOnlyList<TableEntity> rows, TableEntity? head, ChainHeadSnapshot? digested, DateTimeOffset now)
    {
        var findings = new List<LedgerFinding>();
        var hashesBySeq = new Dictionary<long, string>();
        var purgedThrough = Math.Max(0, head?.GetInt64(LedgerRow.PurgedThroughSeq) ?? 0);
        var anchorHash = purgedThrough > 0 ? head!.GetString(LedgerRow.AnchorHash) ?? string.Empty : LedgerRow.GenesisHash;
        if (purgedThrough > 0)
        {
            var problem = CheckAnchor(subjectRef, head!, purgedThrough, anchorHash, now);
            if (problem is not null)
            {
                findings.Add(new(LedgerFindingKind.Deleted, subjectRef, LedgerRow.RowKeyOf(1),
                    $"rows 1..{purgedThrough} are gone and the purge anchor does not hold: {problem}"));
            }

            hashesBySeq[purgedThrough] = anchorHash;
        }

        // Links are checked against the row that was written just before (by its own sequence number), so a moved
        // row is reported where it stands and not again at its neighbours.
        var writtenHashes = new Dictionary<long, string>();
        if (purgedThrough > 0)
        {
            writtenHashes[purgedThrough] = anchorHash;
        }

        foreach (var row in rows.Where(r => LedgerRow.ComputeHash(r) == r.GetString(LedgerRow.Hash)))
        {
            writtenHashes.TryAdd(row.GetInt64(LedgerRow.Seq) ?? -1, row.GetString(LedgerRow.Hash)!);
        }

        var expectedSeq = purgedThrough + 1;
        var previousHash = anchorHash;
        foreach (var row in rows)
        {
            if (!long.TryParse(row.RowKey, NumberStyles.None, CultureInfo.InvariantCulture, out var position))
            {
                findings.Add(new(LedgerFindingKind.Edited, subjectRef, row.RowKey, "a row with a key that is no sequence number"));
                continue;
            }

            if (position <= purgedThrough)
            {
                findings.Add(new(LedgerFindingKind.Reordered, subjectRef, row.RowKey, $"the row stands before the purge anchor at row {purgedThrough}"));
                continue;
            }

            if (position > expectedSeq)
            {
                findings.Add(new(LedgerFindingKind.Deleted, subjectRef, LedgerRow.RowKeyOf(expectedSeq),
                    position - expectedSeq == 1 ? $"row {expectedSeq} is missing" : $"rows {expectedSeq}..{position - 1} are missing"));
            }

            var storedHash = row.GetString(LedgerRow.Hash) ?? string.Empty;
            var storedSeq = row.TryGetValue(LedgerRow.Seq, out var s) && s is long l ? l : -1;
            var predecessor = position == 1 ? LedgerRow.GenesisHash : writtenHashes.GetValueOrDefault(position - 1);
            if (LedgerRow.ComputeHash(row) != storedHash)
            {
                findings.Add(new(LedgerFindingKind.Edited, subjectRef, row.RowKey, "the row's content does not match its hash"));
            }
            else if (storedSeq != position)
            {
                findings.Add(new(LedgerFindingKind.Reordered, subjectRef, row.RowKey, $"the row was written as row {storedSeq} but stands at row {position}"));
            }
            else if (predecessor is not null && row.GetString(LedgerRow.PrevHash) != predecessor)
            {
                findings.Add(new(LedgerFindingKind.Reordered, subjectRef, row.RowKey, "the row does not follow the row written before it"));
            }

            hashesBySeq[position] = storedHash;
            previousHash = storedHash;
            expectedSeq = position + 1;
        }

        var lastSeq = expectedSeq - 1;
        var headSeq = head?.GetInt64(LedgerRow.Seq);
        if (head is null)
        {
            findings.Add(new(LedgerFindingKind.HeadMismatch, subjectRef, LedgerRow.HeadRowKey, "the head row is missing"));
        }
        else if (headSeq > lastSeq)
        {
            findings.Add(new(LedgerFindingKind.Deleted, subjectRef, LedgerRow.RowKeyOf(lastSeq + 1),
                headSeq == lastSeq + 1 ? $"the last row {headSeq} is missing" : $"the last rows {lastSeq + 1}..{headSeq} are missing"));
        }
        else if (headSeq != lastSeq || head.GetString(LedgerRow.Hash) != previousHash)
        {
            findings.Add(new(LedgerFindingKind.HeadMismatch, subjectRef, LedgerRow.HeadRowKey, $"the head names row {headSeq}, the chain ends at row {lastSeq}"));
        }

        // A digested row purged since can no longer be compared; the anchor checks above stand for it.
        if (digested is not null && digested.Seq >= purgedThrough && hashesBySeq.GetValueOrDefault(digested.Seq) != digested.Hash)
        {
            findings.Add(new(LedgerFindingKind.DigestMismatch, subjectRef, LedgerRow.RowKeyOf(digested.Seq),
                $"row {digested.Seq} is not the row the last digest recorded: the chain was rewritten from there or before"));
        }

        return findings;
    }

    /// <summary>Null when the anchor is the real last purged row of this chain and that row was past its retention.</summary>
    private static string? CheckAnchor(string subjectRef, TableEntity head, long purgedThrough, string anchorHash, DateTimeOffset now)
    {
        var encoding = head.GetString(LedgerRow.AnchorRow);
        if (encoding is null || LedgerRow.HashOfEncoding(encoding) != anchorHash)
        {
            return "the anchor row does not match the anchor hash";
        }

        if (!LedgerRow.TryReadEncoded(encoding, out var anchorSubject, out var columns) || anchorSubject != subjectRef
            || columns.GetValueOrDefault(LedgerRow.Seq) != "n:" + purgedThrough.ToString(CultureInfo.InvariantCulture))
        {
            return $"the anchor row is not row {purgedThrough} of this chain";
        }

        var retainUntil = columns.GetValueOrDefault(LedgerRow.RetainUntilUtc);
        if (retainUntil is null || !retainUntil.StartsWith("t:", StringComparison.Ordinal)
            || !DateTimeOffset.TryParse(retainUntil[2..], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var until))
        {
            return "the anchor row has no retention date";
        }

        return until < now ? null : $"row {purgedThrough} is retained until {LedgerRow.FormatUtc(until)}";
    }
}
