using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>
/// One chain's head as a digest saw it, with its purge anchor when a retention purge has run. <see cref="Broken"/> (the
/// finding kinds) marks a chain that did not verify: its head is then the last one a trusted line recorded, carried forward.
/// </summary>
public sealed record ChainHeadSnapshot(
    [property: JsonPropertyName("subject")] string SubjectRef,
    [property: JsonPropertyName("seq")] long Seq,
    [property: JsonPropertyName("hash")] string Hash,
    [property: JsonPropertyName("purgedThroughSeq"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] long PurgedThroughSeq = 0,
    [property: JsonPropertyName("anchorHash"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? AnchorHash = null,
    [property: JsonPropertyName("broken"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Broken = null);

/// <summary>
/// One line of the digest log: the SHA-256 over the previous line's digest and the head list, and the ES256 signature of
/// <see cref="LedgerDigests.SignedHash"/> by the ledger's digest key (<see cref="LedgerDigestKey"/>).
/// </summary>
public sealed record LedgerDigest(
    [property: JsonPropertyName("createdAtUtc")] DateTimeOffset CreatedAtUtc,
    [property: JsonPropertyName("chains")] int Chains,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("previousDigest")] string PreviousDigest,
    [property: JsonPropertyName("headsBlob")] string HeadsBlob,
    [property: JsonPropertyName("keyId")] string? KeyId = null,
    [property: JsonPropertyName("alg")] string? Algorithm = null,
    [property: JsonPropertyName("signature")] string? Signature = null)
{
    /// <summary>The log blob the line was appended to (not part of the line).</summary>
    [JsonIgnore]
    public string? Blob { get; init; }
}

/// <summary>One line of the log as read, numbered from 1, with what is wrong with it; only a line without problems vouches for anything.</summary>
public sealed record DigestLine(int Number, LedgerDigest? Digest, IReadOnlyList<ChainHeadSnapshot> Heads, IReadOnlyList<string> Problems)
{
    public bool Trusted => Problems.Count == 0;

    /// <summary>The log blob the line stands in.</summary>
    public string Blob { get; init; } = string.Empty;
}

/// <summary>One blob of the digest log as read, with the ETag an append to it is conditional on.</summary>
public sealed record DigestLogBlob(string Name, ETag ETag);

/// <summary>The whole digest log, every blob in order, each line checked (signature, link to the previous trusted line, head list).</summary>
public sealed record DigestLog(IReadOnlyList<DigestLine> Lines, IReadOnlyList<DigestLogBlob> Blobs)
{
    public static readonly DigestLog Empty = new([], []);

    public IEnumerable<DigestLine> TrustedLines => Lines.Where(l => l.Trusted);

    public DigestLine? LastTrusted => Lines.LastOrDefault(l => l.Trusted);

    /// <summary>
    /// Head lists (immutable, one per line ever written) that no line of the log names and that are older than its first
    /// trusted line (or any, when none is left): the lines that named them, and so the log blobs that held them, are gone.
    /// </summary>
    public IReadOnlyList<string> HeadListsWithoutLine { get; init; } = [];
}

/// <summary>
/// The ledger has chains that do not verify. The digest was still written (<see cref="Written"/>), every intact chain at
/// its head and each broken one at its last trusted head with a signed <c>broken</c> marker, so one break does not leave
/// every other chain unprotected; this exception fails the run so the alert fires.
/// </summary>
public sealed class LedgerBrokenException(LedgerVerification verification, LedgerDigest written)
    : Exception($"The ledger has {verification.ChainFindings.Count()} finding(s) in {verification.ChainFindings.Select(f => f.SubjectRef).Distinct(StringComparer.Ordinal).Count()} chain(s); a digest was written with them marked broken at their last trusted heads; run `ledger verify`.")
{
    public LedgerVerification Verification { get; } = verification;

    public LedgerDigest Written { get; } = written;
}

/// <summary>
/// The digest log in container <c>ledger-digests</c>: one append blob per month, <c>digests/yyyy-MM/0000.log</c>, rolled
/// over to the next part when Azure refuses an append with 409 (50,000 blocks used up, or the blob sealed); read as one
/// sequence after the blob of the first release, <c>digests.log</c>, each blob's first line following the previous blob's
/// last. In Azure the container's immutability policy is locked with protected appends only, and runs from each blob's
/// creation, so a monthly blob stays for the whole retention after its last line. Each line is written between newlines and
/// empty lines are skipped, so whatever else is appended can only ever be a line of its own. Each line names every chain
/// head (seq, hash, purge anchor) in a head list blob, covers the line before, and is signed with a key the app can use but
/// not export. Writing one first verifies the whole ledger against every earlier line (<see cref="LedgerVerifier"/>).
/// </summary>
public sealed partial class LedgerDigests(StorageAccount storage, TimeProvider time, LedgerDigestKey? key = null)
{
    /// <summary>The single log blob of the first release; still read first, never written.</summary>
    public const string LegacyLogBlobName = "digests.log";

    /// <summary>Where the monthly log blobs start.</summary>
    public const string LogPrefix = "digests/";

    private const string HeadsPrefix = "heads/";
    private const string SignedVersion = "cafetalk-ledger-digest/v2";
    private const int MaxAttempts = 10;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private LedgerDigestKey Key { get; } = key ?? EphemeralLedgerDigestKey.Shared;

    /// <summary>The log blob a line written at <paramref name="at"/> goes to, in its <paramref name="part"/> (0 until a blob is full or sealed).</summary>
    public static string LogBlobName(DateTimeOffset at, int part = 0) =>
        string.Create(CultureInfo.InvariantCulture, $"{LogPrefix}{at.UtcDateTime:yyyy-MM}/{part:D4}.log");

    /// <summary>Verifies the ledger, then appends a signed digest (see <see cref="WriteAsync(LedgerVerification, CancellationToken)"/>).</summary>
    /// <exception cref="LedgerBrokenException">A chain does not verify: the line was written with it marked broken.</exception>
    public async Task<LedgerDigest> WriteAsync(CancellationToken cancellationToken = default)
    {
        var verification = await new LedgerVerifier(storage, this, time).VerifyAsync(cancellationToken);
        return await WriteAsync(verification, cancellationToken);
    }

    /// <summary>
    /// Appends a signed digest of the heads <paramref name="verification"/> saw. A chain with findings is not signed as it
    /// stands: the line carries its last trusted head with a <c>broken</c> marker, and the method throws after writing.
    /// </summary>
    /// <remarks>Findings about foreign lines in the log (unsigned, badly signed) are reported by verify but do not stop digests: the new line follows the last trusted one.</remarks>
    /// <exception cref="LedgerBrokenException">A chain does not verify: the line was written with it marked broken.</exception>
    public async Task<LedgerDigest> WriteAsync(LedgerVerification verification, CancellationToken cancellationToken = default)
    {
        var broken = verification.ChainFindings
            .GroupBy(f => f.SubjectRef, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => string.Join(',', g.Select(f => f.Kind.ToString()).Distinct()), StringComparer.Ordinal);
        var written = await AppendAsync(HeadsToSign(verification, broken), verification.Log, cancellationToken);
        return broken.Count == 0 ? written : throw new LedgerBrokenException(verification, written);
    }

    /// <summary>Intact chains at their heads; a broken chain at the head the last trusted line recorded (none: seq 0), marked with its finding kinds.</summary>
    private static List<ChainHeadSnapshot> HeadsToSign(LedgerVerification verification, Dictionary<string, string> broken)
    {
        if (broken.Count == 0)
        {
            return [.. verification.Heads];
        }

        var lastTrusted = new Dictionary<string, ChainHeadSnapshot>(StringComparer.Ordinal);
        foreach (var head in verification.Log.TrustedLines.SelectMany(l => l.Heads).Where(h => h.Broken is null))
        {
            lastTrusted[head.SubjectRef] = head;
        }

        var heads = verification.Heads.Where(h => !broken.ContainsKey(h.SubjectRef)).ToList();
        foreach (var (subjectRef, kinds) in broken)
        {
            heads.Add((lastTrusted.GetValueOrDefault(subjectRef) ?? new ChainHeadSnapshot(subjectRef, 0, LedgerRow.GenesisHash)) with { Broken = kinds });
        }

        return heads;
    }

    /// <summary>Appends a signed line over <paramref name="heads"/> without verifying: only for <see cref="WriteAsync(LedgerVerification, CancellationToken)"/> and tests that stand for older versions.</summary>
    internal async Task<LedgerDigest> AppendAsync(IReadOnlyList<ChainHeadSnapshot> heads, DigestLog? log, CancellationToken cancellationToken)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var sorted = heads.OrderBy(h => h.SubjectRef, StringComparer.Ordinal).ToList();
        var headsBytes = JsonSerializer.SerializeToUtf8Bytes(sorted, Json);
        var container = storage.BlobContainer(BlobContainerNames.LedgerDigests);
        // One head list for every attempt: a retry after a lost race must not leave a list no line names.
        var headsBlob = $"{HeadsPrefix}{time.GetUtcNow():yyyyMMdd'T'HHmmssfff'Z'}-{Guid.NewGuid():N}.json";
        await container.GetBlobClient(headsBlob).UploadAsync(BinaryData.FromBytes(headsBytes), overwrite: false, cancellationToken);
        var refused = new HashSet<string>(StringComparer.Ordinal);
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            log ??= await ReadAsync(cancellationToken);
            var previous = log.LastTrusted?.Digest?.Digest ?? LedgerRow.GenesisHash;
            var now = time.GetUtcNow();
            var (target, etag) = Target(log, now, refused);
            var unsigned = new LedgerDigest(now, sorted.Count, Compute(previous, headsBytes), previous, headsBlob);
            var signature = await Key.SignAsync(SignedHash(unsigned), cancellationToken);
            var digest = unsigned with { KeyId = signature.KeyId, Algorithm = signature.Algorithm, Signature = System.Buffers.Text.Base64Url.EncodeToString(signature.Value) };
            // A newline before as well as after: a fragment someone appended without one stays its own (untrusted) line
            // instead of merging into ours and hiding it.
            var line = Encoding.UTF8.GetBytes("\n" + JsonSerializer.Serialize(digest, Json) + "\n");
            var blob = container.GetAppendBlobClient(target);
            try
            {
                // A new blob only if nobody made it meanwhile: its lines, if any, must come before ours.
                etag ??= (await blob.CreateAsync(new AppendBlobCreateOptions { Conditions = new AppendBlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken)).Value.ETag;
                using var stream = new MemoryStream(line);
                await blob.AppendBlockAsync(stream, new AppendBlobAppendBlockOptions { Conditions = new AppendBlobRequestConditions { IfMatch = etag } }, cancellationToken);
                return digest with { Blob = target };
            }
            catch (RequestFailedException ex) when (ex.Status == 412 || ex.ErrorCode == BlobErrorCode.BlobAlreadyExists.ToString())
            {
                // Another digest was appended meanwhile: ours must follow it, so read the log again.
                log = null;
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                // BlockCountExceedsLimit (50,000 appends) or BlobIsSealed: nothing was appended; go on in the month's next part.
                refused.Add(target);
                log = null;
            }
        }

        throw new InvalidOperationException($"The digest log changed concurrently or refused appends on each of {MaxAttempts} attempts.");
    }

    /// <summary>The month's last part and its ETag, or the next part (no ETag: to be created) when there is none or it refused an append.</summary>
    private static (string Name, ETag? ETag) Target(DigestLog log, DateTimeOffset now, HashSet<string> refused)
    {
        var month = LogBlobName(now)[..^"0000.log".Length];
        var last = log.Blobs.Where(b => b.Name.StartsWith(month, StringComparison.Ordinal) && PartName().IsMatch(b.Name[month.Length..]))
            .MaxBy(b => b.Name, StringComparer.Ordinal);
        if (last is null)
        {
            return (LogBlobName(now), null);
        }

        if (!refused.Contains(last.Name))
        {
            return (last.Name, last.ETag);
        }

        var part = int.Parse(last.Name.AsSpan(month.Length, 4), NumberStyles.None, CultureInfo.InvariantCulture);
        return (LogBlobName(now, part + 1), null);
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[0-9]{4}\\.log$")]
    private static partial System.Text.RegularExpressions.Regex PartName();

    /// <summary>Every line of every log blob in order, each checked: signature, link to the previous trusted line, head list.</summary>
    public async Task<DigestLog> ReadAsync(CancellationToken cancellationToken = default)
    {
        var container = storage.BlobContainer(BlobContainerNames.LedgerDigests);
        if (!await container.ExistsAsync(cancellationToken))
        {
            return DigestLog.Empty;
        }

        var names = new List<string>();
        await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, LegacyLogBlobName[..^".log".Length], cancellationToken: cancellationToken))
        {
            if (item.Name == LegacyLogBlobName || item.Name.StartsWith(LogPrefix, StringComparison.Ordinal))
            {
                names.Add(item.Name);
            }
        }

        // The first release's single blob, then the monthly ones, oldest first (the names sort by month and part).
        names.Sort((a, b) => (a == LegacyLogBlobName, b == LegacyLogBlobName) switch
        {
            (true, false) => -1,
            (false, true) => 1,
            _ => string.CompareOrdinal(a, b),
        });
        var now = time.GetUtcNow();
        var lines = new List<DigestLine>();
        var blobs = new List<DigestLogBlob>(names.Count);
        var previousTrusted = (Number: 0, Digest: LedgerRow.GenesisHash, Blob: string.Empty);
        foreach (var name in names)
        {
            var content = await container.GetBlobClient(name).DownloadContentAsync(cancellationToken);
            blobs.Add(new DigestLogBlob(name, content.Value.Details.ETag));
            foreach (var text in content.Value.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var number = lines.Count + 1;
                var line = await CheckLineAsync(container, number, text, previousTrusted, now, cancellationToken) with { Blob = name };
                lines.Add(line);
                if (line.Trusted)
                {
                    previousTrusted = (number, line.Digest!.Digest, name);
                }
            }
        }

        return new DigestLog(lines, blobs) { HeadListsWithoutLine = await HeadListsWithoutLineAsync(container, lines, cancellationToken) };
    }

    /// <summary>Head lists older than the first trusted line (all, when none is trusted) that no line names.</summary>
    /// <remarks>Their names start with the writer's time, so the listing stops at the first trusted line's own time.</remarks>
    private static async Task<List<string>> HeadListsWithoutLineAsync(BlobContainerClient container, List<DigestLine> lines, CancellationToken cancellationToken)
    {
        var named = lines.Select(l => l.Digest?.HeadsBlob).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var first = lines.FirstOrDefault(l => l.Trusted)?.Digest;
        var before = first is null ? null : $"{HeadsPrefix}{first.CreatedAtUtc:yyyyMMdd'T'HHmmssfff'Z'}";
        var found = new List<string>();
        await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, HeadsPrefix, cancellationToken: cancellationToken))
        {
            if (before is not null && string.CompareOrdinal(item.Name, before) >= 0)
            {
                break;
            }

            if (!named.Contains(item.Name))
            {
                found.Add(item.Name);
            }
        }

        return found;
    }

    /// <summary>The last trusted line and its heads; null when none was written yet.</summary>
    public async Task<DigestLine?> ReadLastAsync(CancellationToken cancellationToken = default) =>
        (await ReadAsync(cancellationToken)).LastTrusted;

    private async Task<DigestLine> CheckLineAsync(BlobContainerClient container, int number, string text, (int Number, string Digest, string Blob) previousTrusted, DateTimeOffset now, CancellationToken cancellationToken)
    {
        LedgerDigest? digest;
        try
        {
            digest = JsonSerializer.Deserialize<LedgerDigest>(text, Json);
        }
        catch (JsonException)
        {
            digest = null;
        }

        if (digest is null || digest.Digest is null || digest.PreviousDigest is null || digest.HeadsBlob is null)
        {
            return new DigestLine(number, null, [], ["the line is not a digest line"]);
        }

        var signatureProblem = await Key.CheckAsync(SignedHash(digest), digest.KeyId, digest.Algorithm, digest.Signature, cancellationToken);
        if (signatureProblem is not null)
        {
            return new DigestLine(number, digest, [], [signatureProblem]);
        }

        var problems = new List<string>();
        if (digest.PreviousDigest != previousTrusted.Digest)
        {
            // The log may begin after its genesis only once the blobs before have outlived the records' retention.
            var startExpired = previousTrusted.Number == 0 && digest.CreatedAtUtc.AddYears(DisclosureLedger.RetentionYears) < now;
            if (!startExpired)
            {
                problems.Add(previousTrusted.Number == 0
                    ? "the line does not start the log: the lines before it are gone, less than the retention period after it was written"
                    : $"the line does not follow digest line {previousTrusted.Number} (in {previousTrusted.Blob}): the lines between are gone");
            }
        }

        var headsBlob = container.GetBlobClient(digest.HeadsBlob);
        if (!await headsBlob.ExistsAsync(cancellationToken))
        {
            problems.Add($"its head list {digest.HeadsBlob} is missing");
            return new DigestLine(number, digest, [], problems);
        }

        var bytes = (await headsBlob.DownloadContentAsync(cancellationToken)).Value.Content.ToArray();
        List<ChainHeadSnapshot> heads;
        try
        {
            heads = JsonSerializer.Deserialize<List<ChainHeadSnapshot>>(bytes, Json) ?? [];
        }
        catch (JsonException)
        {
            heads = [];
        }

        if (Compute(digest.PreviousDigest, bytes) != digest.Digest || heads.Count != digest.Chains)
        {
            problems.Add($"its head list {digest.HeadsBlob} does not match the digest");
        }

        return new DigestLine(number, digest, heads, problems);
    }

    /// <summary>What the key signs: every field of the line except the signature itself and the key version (known only after signing).</summary>
    internal static byte[] SignedHash(LedgerDigest digest) => SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n',
        SignedVersion, LedgerRow.FormatUtc(digest.CreatedAtUtc), digest.Chains.ToString(System.Globalization.CultureInfo.InvariantCulture),
        digest.HeadsBlob, digest.PreviousDigest, digest.Digest)));

    /// <summary>Every head in the table now, purge anchors included.</summary>
    internal static ChainHeadSnapshot Snapshot(TableEntity head)
    {
        var purgedThrough = head.GetInt64(LedgerRow.PurgedThroughSeq) ?? 0;
        return new ChainHeadSnapshot(head.PartitionKey, head.GetInt64(LedgerRow.Seq) ?? 0, head.GetString(LedgerRow.Hash) ?? string.Empty,
            purgedThrough, purgedThrough > 0 ? head.GetString(LedgerRow.AnchorHash) : null);
    }

    internal static string Compute(string previousDigest, byte[] headsBytes)
    {
        var prefix = Encoding.UTF8.GetBytes(previousDigest + "\n");
        return Convert.ToHexStringLower(SHA256.HashData([.. prefix, .. headsBytes]));
    }
}
