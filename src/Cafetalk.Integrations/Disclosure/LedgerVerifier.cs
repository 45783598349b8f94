using System.Globalization;
using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Options;

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
    /// <summary>The chain no longer holds a row a signed digest recorded: it was rewritten, cut short or deleted since.</summary>
    DigestMismatch,
    /// <summary>A signed digest line's head list was altered or is missing.</summary>
    DigestTampered,
    /// <summary>A digest line is unsigned, badly signed, signed by another key, or unreadable.</summary>
    DigestForged,
    /// <summary>The newest signed digest line is older than <see cref="DisclosureLedgerOptions.DigestMaxAge"/>: the digest job stopped.</summary>
    DigestStale,
    /// <summary>
    /// Digest log lines are gone: the log, or a blob of it, was deleted while head lists of its lines remain, or a signed line
    /// does not follow the trusted line before it (or starts the log less than the retention period after it was written).
    /// </summary>
    DigestMissing,
    /// <summary>A member's Subjects mapping or a chain's erasure marker fails its keyed commitment, or a chain has neither (<see cref="SubjectMappingVerifier"/>).</summary>
    MappingMismatch,
}

/// <summary>One break, naming the chain (subject pseudonym, or <c>-</c> for the digest log) and the row key where it shows.</summary>
public sealed record LedgerFinding(LedgerFindingKind Kind, string SubjectRef, string? RowKey, string Detail)
{
    public const string DigestLog = "-";

    public override string ToString() => (SubjectRef == DigestLog ? $"{Kind}: digest log" : $"{Kind}: chain {SubjectRef}") + (RowKey is null ? string.Empty : $" row {RowKey}") + $": {Detail}";
}

/// <summary>The result of <see cref="LedgerVerifier.VerifyAsync"/>, with the heads it saw (what the next digest signs).</summary>
public sealed record LedgerVerification(int Chains, long Rows, LedgerDigest? Digest, IReadOnlyList<LedgerFinding> Findings)
{
    public bool IsIntact => Findings.Count == 0;

    /// <summary>Breaks in the chains themselves (not in the digest log): a digest over them is refused.</summary>
    public IEnumerable<LedgerFinding> ChainFindings => Findings.Where(f => f.SubjectRef != LedgerFinding.DigestLog);

    public IReadOnlyList<ChainHeadSnapshot> Heads { get; init; } = [];

    public DigestLog Log { get; init; } = DigestLog.Empty;
}

/// <summary>One chain as a trusted digest line recorded it; <paramref name="PreviousLineAtUtc"/> is the signed time of the trusted line before (MinValue for the first).</summary>
internal sealed record DigestClaim(DigestLine Line, ChainHeadSnapshot Head, DateTimeOffset PreviousLineAtUtc)
{
    public string Describe() => $"digest line {Line.Number} of {Line.Digest!.CreatedAtUtc:yyyy-MM-dd HH:mm}Z";

    /// <summary>Every chain each trusted line names, per chain in line order.</summary>
    public static Dictionary<string, List<DigestClaim>> BySubject(IEnumerable<DigestLine> trustedLines)
    {
        var claims = new Dictionary<string, List<DigestClaim>>(StringComparer.Ordinal);
        DateTimeOffset? previousAt = null;
        foreach (var line in trustedLines)
        {
            // Before a log that starts at genesis nothing was signed; before one whose older blobs expired, rows count as
            // written just before its first line (the lines that saw them earlier are gone).
            previousAt ??= line.Digest!.PreviousDigest == LedgerRow.GenesisHash ? DateTimeOffset.MinValue : line.Digest.CreatedAtUtc;

            // A broken chain's carried-forward head repeats an earlier claim and vouches for nothing new.
            foreach (var head in line.Heads.Where(h => h.Broken is null))
            {
                (claims.TryGetValue(head.SubjectRef, out var list) ? list : claims[head.SubjectRef] = []).Add(new DigestClaim(line, head, previousAt.Value));
            }

            previousAt = line.Digest!.CreatedAtUtc;
        }

        return claims;
    }

    /// <summary>
    /// The earliest time row <paramref name="seq"/> can have been written, by signed time alone: the first trusted line that
    /// names the chain at that row or later saw it, the trusted line before did not (it named the chain lower, or not at
    /// all). Null when no trusted line has recorded the row yet. A row's own ProvidedAtUtc/RetainUntilUtc are the writer's word.
    /// </summary>
    public static DateTimeOffset? RowWrittenAfter(IEnumerable<DigestClaim> chainClaims, long seq) =>
        chainClaims.FirstOrDefault(c => c.Head.Seq >= seq)?.PreviousLineAtUtc;

    /// <summary>Whether signed time shows row <paramref name="seq"/> is past the retention period now.</summary>
    public static bool SignedPastRetention(IEnumerable<DigestClaim> chainClaims, long seq, DateTimeOffset now) =>
        RowWrittenAfter(chainClaims, seq) is { } after && (after == DateTimeOffset.MinValue || after.AddYears(DisclosureLedger.RetentionYears) < now);
}

/// <summary>Recomputes every chain from its rows and checks it against every trusted line of the digest log.</summary>
/// <remarks>
/// A digest line is trusted when its ES256 signature holds with the ledger's digest key, it follows the previous trusted
/// line, and its head list matches. For every chain a trusted line names at seq S: if S is past the chain's purge anchor,
/// row S must be there with the recorded hash; if S is the anchor, the anchor hash must be the recorded hash; a chain a
/// trusted line names must still exist. After a retention purge a chain starts at its anchor (<see cref="LedgerRetention"/>):
/// the head's AnchorRow must hash to AnchorHash, be row PurgedThroughSeq of this chain and be past its RetainUntilUtc now,
/// and signed data must vouch for it: a trusted line recorded that anchor, or the trusted line before the first one that
/// recorded its row is older than the retention period (so the row is, by the signer's clock, not by its own RetainUntilUtc):
/// whoever can write the table can forge an anchor that agrees with itself, not one a signed digest agrees with.
/// A chain that shows a break is read again (twice at most) before it is reported: an append that lands between
/// reading a chain's rows and its head looks like a cut tail once.
/// </remarks>
public sealed class LedgerVerifier(StorageAccount storage, LedgerDigests digests, TimeProvider time, IOptions<DisclosureLedgerOptions>? options = null)
{
    private const int ReReads = 2;

    private TimeSpan DigestMaxAge => options?.Value.DigestMaxAge ?? DisclosureLedgerOptions.DefaultDigestMaxAge;

    public async Task<LedgerVerification> VerifyAsync(CancellationToken cancellationToken = default)
    {
        var findings = new List<LedgerFinding>();
        var now = time.GetUtcNow();
        var log = await digests.ReadAsync(cancellationToken);
        foreach (var line in log.Lines.Where(l => !l.Trusted))
        {
            var kind = line.Problems.Any(p => p.EndsWith("are gone", StringComparison.Ordinal) || p.Contains("are gone,", StringComparison.Ordinal)) ? LedgerFindingKind.DigestMissing
                : line.Heads.Count > 0 || line.Problems.Any(p => p.StartsWith("its head list", StringComparison.Ordinal)) ? LedgerFindingKind.DigestTampered
                : LedgerFindingKind.DigestForged;
            findings.AddRange(line.Problems.Select(p => new LedgerFinding(kind, LedgerFinding.DigestLog, null, $"digest line {line.Number}: {p}")));
        }

        findings.AddRange(CheckLogStillWritten(log, now));

        var claims = DigestClaim.BySubject(log.TrustedLines);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var heads = new List<ChainHeadSnapshot>();
        var chains = 0;
        long rowCount = 0;
        var rows = new List<TableEntity>();
        TableEntity? head = null;
        string? partition = null;
        var table = storage.Table(TableNames.DisclosureLedger);

        async Task CloseAsync()
        {
            if (partition is null)
            {
                return;
            }

            var chainClaims = claims.GetValueOrDefault(partition) ?? [];
            var chainFindings = VerifyChain(partition, rows, head, chainClaims, now);
            for (var read = 0; read < ReReads && chainFindings.Count > 0; read++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100 * (read + 1)), cancellationToken);
                (head, rows) = await ReadChainAsync(table, partition, cancellationToken);
                chainFindings = VerifyChain(partition, rows, head, chainClaims, now);
            }

            chains++;
            rowCount += rows.Count;
            seen.Add(partition);
            findings.AddRange(chainFindings);
            if (head is not null)
            {
                heads.Add(LedgerDigests.Snapshot(head));
            }
        }

        await foreach (var row in table.QueryAsync<TableEntity>(cancellationToken: cancellationToken))
        {
            if (row.PartitionKey != partition)
            {
                await CloseAsync();
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

        await CloseAsync();
        foreach (var (subjectRef, chainClaims) in claims.Where(c => !seen.Contains(c.Key)))
        {
            var last = chainClaims[^1];
            findings.Add(new LedgerFinding(LedgerFindingKind.DigestMismatch, subjectRef, null,
                $"the whole chain is gone: {last.Describe()} recorded it up to row {last.Head.Seq}"));
        }

        return new LedgerVerification(chains, rowCount, log.LastTrusted?.Digest, findings) { Heads = heads, Log = log };
    }

    /// <summary>
    /// The log itself: its newest trusted line is at most <see cref="DisclosureLedgerOptions.DigestMaxAge"/> old by its signed
    /// time (a stopped digest job leaves every later row unprotected, and no run fails to alert on), and no head list (kept
    /// immutable like the log) stands for a line that is gone.
    /// </summary>
    private IEnumerable<LedgerFinding> CheckLogStillWritten(DigestLog log, DateTimeOffset now)
    {
        if (log.HeadListsWithoutLine.Count > 0)
        {
            var lists = log.HeadListsWithoutLine;
            yield return new LedgerFinding(LedgerFindingKind.DigestMissing, LedgerFinding.DigestLog, null, log.Lines.Count == 0
                ? $"the digest log is missing, but {lists.Count} head list(s) of its lines remain (first {lists[0]})"
                : $"{lists.Count} head list(s) (first {lists[0]}) are named by no line left in the log: the log blobs that held their lines are gone");
        }

        if (log.LastTrusted is { Digest: { } last } line && now - last.CreatedAtUtc > DigestMaxAge)
        {
            yield return new LedgerFinding(LedgerFindingKind.DigestStale, LedgerFinding.DigestLog, null,
                $"the newest signed digest line (line {line.Number}, of {last.CreatedAtUtc:yyyy-MM-dd HH:mm}Z) is {(now - last.CreatedAtUtc).TotalMinutes:0} min old, more than the {DigestMaxAge.TotalMinutes:0} min allowed (Ledger__DigestMaxAge): the digest job has stopped, and rows written since are not yet protected");
        }
    }

    private static async Task<(TableEntity? Head, List<TableEntity> Rows)> ReadChainAsync(TableClient table, string subjectRef, CancellationToken cancellationToken)
    {
        TableEntity? head = null;
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {subjectRef}"), cancellationToken: cancellationToken))
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

    /// <summary>Checks one chain; <paramref name="rows"/> are in row-key order, as the table returns them.</summary>
    internal static List<LedgerFinding> VerifyChain(string subjectRef, IReadOnlyList<TableEntity> rows, TableEntity? head, IReadOnlyList<DigestClaim> claims, DateTimeOffset now)
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

        foreach (var row in rows.Where(r => r.RowKey.Length == LedgerRow.RowKeyOf(0).Length && LedgerRow.ComputeHash(r) == r.GetString(LedgerRow.Hash)))
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

            // Only the writer's 19-digit form is a position: "3" or a 20-digit "0…03" sorts elsewhere and would stand as a second row 3.
            if (row.RowKey != LedgerRow.RowKeyOf(position))
            {
                findings.Add(new(LedgerFindingKind.Edited, subjectRef, row.RowKey, $"a row with a key that is not the 19-digit form of row {position}"));
                continue;
            }

            if (position < expectedSeq)
            {
                findings.Add(new(LedgerFindingKind.Reordered, subjectRef, row.RowKey, $"row {position} stands again after row {expectedSeq - 1}"));
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

        // A purge anchor stands for deleted rows only if signed data vouches for it: a trusted line recorded this very anchor
        // (the digest writer records only anchors that passed this check), or signed time shows its row is past retention.
        // That a line recorded the row proves nothing about its age: an insider can plant a backdated row and wait one digest.
        if (purgedThrough > 0 && !findings.Any(f => f.Kind == LedgerFindingKind.Deleted && f.RowKey == LedgerRow.RowKeyOf(1))
            && !claims.Any(c => c.Head.PurgedThroughSeq == purgedThrough && c.Head.AnchorHash == anchorHash)
            && !DigestClaim.SignedPastRetention(claims, purgedThrough, now))
        {
            var after = DigestClaim.RowWrittenAfter(claims, purgedThrough);
            findings.Add(new(LedgerFindingKind.Deleted, subjectRef, LedgerRow.RowKeyOf(1),
                $"rows 1..{purgedThrough} are gone and no signed digest vouches for the purge anchor" + (after is { } at
                    ? $": row {purgedThrough} was first signed after {LedgerRow.FormatUtc(at)}, less than {DisclosureLedger.RetentionYears} years ago"
                    : string.Empty)));
        }

        // Every trusted digest line, not only the last: a row it recorded that is gone or differs. Rows purged since (below
        // the anchor) can no longer be compared; the anchor checks above stand for them.
        var contradicted = claims
            .Where(c => c.Head.Seq >= purgedThrough && hashesBySeq.GetValueOrDefault(c.Head.Seq) != c.Head.Hash)
            .OrderBy(c => c.Head.Seq).ThenBy(c => c.Line.Number)
            .ToList();
        if (contradicted.Count > 0)
        {
            var first = contradicted[0];
            var more = contradicted.Count > 1 ? $" ({contradicted.Count} digest lines contradicted)" : string.Empty;
            findings.Add(new(LedgerFindingKind.DigestMismatch, subjectRef, LedgerRow.RowKeyOf(first.Head.Seq), hashesBySeq.ContainsKey(first.Head.Seq)
                ? $"row {first.Head.Seq} is not the row {first.Describe()} recorded: the chain was rewritten from there or before{more}"
                : $"row {first.Head.Seq}, recorded by {first.Describe()}, is missing{more}"));
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
