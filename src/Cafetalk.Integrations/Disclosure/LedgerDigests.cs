using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>One chain's head as a digest saw it, with its purge anchor when a retention purge has run.</summary>
public sealed record ChainHeadSnapshot(
    [property: JsonPropertyName("subject")] string SubjectRef,
    [property: JsonPropertyName("seq")] long Seq,
    [property: JsonPropertyName("hash")] string Hash,
    [property: JsonPropertyName("purgedThroughSeq"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] long PurgedThroughSeq = 0,
    [property: JsonPropertyName("anchorHash"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? AnchorHash = null);

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
    [property: JsonPropertyName("signature")] string? Signature = null);

/// <summary>One line of the log as read, numbered from 1, with what is wrong with it; only a line without problems vouches for anything.</summary>
public sealed record DigestLine(int Number, LedgerDigest? Digest, IReadOnlyList<ChainHeadSnapshot> Heads, IReadOnlyList<string> Problems)
{
    public bool Trusted => Problems.Count == 0;
}

/// <summary>The whole digest log, each line checked (signature, link to the previous trusted line, head list).</summary>
public sealed record DigestLog(IReadOnlyList<DigestLine> Lines, ETag? ETag)
{
    public static readonly DigestLog Empty = new([], null);

    public IEnumerable<DigestLine> TrustedLines => Lines.Where(l => l.Trusted);

    public DigestLine? LastTrusted => Lines.LastOrDefault(l => l.Trusted);
}

/// <summary>Digest refused: the ledger does not verify, and a signed digest over it would vouch for the break.</summary>
public sealed class LedgerBrokenException(LedgerVerification verification)
    : Exception($"The ledger digest was refused: {verification.ChainFindings.Count()} finding(s) in the ledger's chains; run `ledger verify`.")
{
    public LedgerVerification Verification { get; } = verification;
}

/// <summary>
/// The digest log <c>ledger-digests/digests.log</c> (an append blob; in Azure the container's immutability policy is
/// locked with protected appends only). Each line is written between newlines and empty lines are skipped, so whatever
/// else is appended can only ever be a line of its own. Each line names every chain head (seq, hash, purge anchor) in a head list
/// blob, covers the line before, and is signed with a key the app can use but not export. Writing one first verifies
/// the whole ledger against every earlier line (<see cref="LedgerVerifier"/>) and refuses over a break.
/// </summary>
public sealed class LedgerDigests(StorageAccount storage, TimeProvider time, LedgerDigestKey? key = null)
{
    public const string LogBlobName = "digests.log";
    private const string SignedVersion = "cafetalk-ledger-digest/v2";
    private const int MaxAttempts = 10;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private LedgerDigestKey Key { get; } = key ?? EphemeralLedgerDigestKey.Shared;

    /// <summary>Verifies the ledger, then appends a signed digest of the heads it verified.</summary>
    /// <exception cref="LedgerBrokenException">A chain does not verify: nothing is appended.</exception>
    public async Task<LedgerDigest> WriteAsync(CancellationToken cancellationToken = default)
    {
        var verification = await new LedgerVerifier(storage, this, time).VerifyAsync(cancellationToken);
        return await WriteAsync(verification, cancellationToken);
    }

    /// <summary>Appends a signed digest of the heads <paramref name="verification"/> saw, unless a chain broke.</summary>
    /// <remarks>Findings about foreign lines in the log (unsigned, badly signed) are reported by verify but do not stop digests: the new line follows the last trusted one.</remarks>
    public Task<LedgerDigest> WriteAsync(LedgerVerification verification, CancellationToken cancellationToken = default) =>
        verification.ChainFindings.Any()
            ? throw new LedgerBrokenException(verification)
            : AppendAsync(verification.Heads, verification.Log, cancellationToken);

    /// <summary>Appends a signed line over <paramref name="heads"/> without verifying: only for <see cref="WriteAsync(LedgerVerification, CancellationToken)"/> and tests that stand for older versions.</summary>
    internal async Task<LedgerDigest> AppendAsync(IReadOnlyList<ChainHeadSnapshot> heads, DigestLog? log, CancellationToken cancellationToken)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var sorted = heads.OrderBy(h => h.SubjectRef, StringComparer.Ordinal).ToList();
        var headsBytes = JsonSerializer.SerializeToUtf8Bytes(sorted, Json);
        var container = storage.BlobContainer(BlobContainerNames.LedgerDigests);
        var blob = container.GetAppendBlobClient(LogBlobName);
        await blob.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        log ??= await ReadAsync(cancellationToken);
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            if (log.ETag is null)
            {
                log = await ReadAsync(cancellationToken);
            }

            var previous = log.LastTrusted?.Digest?.Digest ?? LedgerRow.GenesisHash;
            var now = time.GetUtcNow();
            var headsBlob = $"heads/{now:yyyyMMdd'T'HHmmssfff'Z'}-{Guid.NewGuid():N}.json";
            await container.GetBlobClient(headsBlob).UploadAsync(BinaryData.FromBytes(headsBytes), overwrite: false, cancellationToken);
            var unsigned = new LedgerDigest(now, sorted.Count, Compute(previous, headsBytes), previous, headsBlob);
            var signature = await Key.SignAsync(SignedHash(unsigned), cancellationToken);
            var digest = unsigned with { KeyId = signature.KeyId, Algorithm = signature.Algorithm, Signature = System.Buffers.Text.Base64Url.EncodeToString(signature.Value) };
            // A newline before as well as after: a fragment someone appended without one stays its own (untrusted) line
            // instead of merging into ours and hiding it.
            var line = Encoding.UTF8.GetBytes("\n" + JsonSerializer.Serialize(digest, Json) + "\n");
            try
            {
                using var stream = new MemoryStream(line);
                await blob.AppendBlockAsync(stream, new AppendBlobAppendBlockOptions { Conditions = new AppendBlobRequestConditions { IfMatch = log.ETag } }, cancellationToken);
                return digest;
            }
            catch (RequestFailedException ex) when (ex.Status == 412)
            {
                // Another digest was appended meanwhile: ours must follow it, so read the log again.
                log = log with { ETag = null };
            }
        }

        throw new InvalidOperationException($"The digest log changed concurrently on each of {MaxAttempts} attempts.");
    }

    /// <summary>Every line of the log, each checked: signature, link to the previous trusted line, head list.</summary>
    public async Task<DigestLog> ReadAsync(CancellationToken cancellationToken = default)
    {
        var container = storage.BlobContainer(BlobContainerNames.LedgerDigests);
        var log = container.GetAppendBlobClient(LogBlobName);
        if (!await container.ExistsAsync(cancellationToken) || !await log.ExistsAsync(cancellationToken))
        {
            return DigestLog.Empty;
        }

        var content = await log.DownloadContentAsync(cancellationToken);
        var texts = content.Value.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var lines = new List<DigestLine>(texts.Length);
        var previousTrusted = (Number: 0, Digest: LedgerRow.GenesisHash);
        foreach (var (text, index) in texts.Select((t, i) => (t, i + 1)))
        {
            var line = await CheckLineAsync(container, index, text, previousTrusted, cancellationToken);
            lines.Add(line);
            if (line.Trusted)
            {
                previousTrusted = (index, line.Digest!.Digest);
            }
        }

        return new DigestLog(lines, content.Value.Details.ETag);
    }

    /// <summary>The last trusted line and its heads; null when none was written yet.</summary>
    public async Task<DigestLine?> ReadLastAsync(CancellationToken cancellationToken = default) =>
        (await ReadAsync(cancellationToken)).LastTrusted;

    private async Task<DigestLine> CheckLineAsync(Azure.Storage.Blobs.BlobContainerClient container, int number, string text, (int Number, string Digest) previousTrusted, CancellationToken cancellationToken)
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
            problems.Add(previousTrusted.Number == 0 ? "the line does not start the log" : $"the line does not follow digest line {previousTrusted.Number}");
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
