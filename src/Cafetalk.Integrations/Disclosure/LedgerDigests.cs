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

/// <summary>One chain's head as a digest saw it.</summary>
public sealed record ChainHeadSnapshot(
    [property: JsonPropertyName("subject")] string SubjectRef,
    [property: JsonPropertyName("seq")] long Seq,
    [property: JsonPropertyName("hash")] string Hash);

/// <summary>One line of the digest log: the SHA-256 of the previous digest and the head list it covers.</summary>
public sealed record LedgerDigest(
    [property: JsonPropertyName("createdAtUtc")] DateTimeOffset CreatedAtUtc,
    [property: JsonPropertyName("chains")] int Chains,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("previousDigest")] string PreviousDigest,
    [property: JsonPropertyName("headsBlob")] string HeadsBlob);

/// <summary>The last digest, checked against its head list, ready for <see cref="LedgerVerifier"/>.</summary>
public sealed record CheckedDigest(LedgerDigest Digest, IReadOnlyList<ChainHeadSnapshot> Heads, IReadOnlyList<string> Problems);

/// <summary>
/// The daily digest: every chain head hashed into one value, appended as a line to the append blob
/// <c>ledger-digests/digests.log</c> (each line also covers the line before). Rewriting a whole chain, head included,
/// then no longer matches the last digest. In Azure the container carries an immutability policy with protected appends.
/// </summary>
public sealed class LedgerDigests(StorageAccount storage, TimeProvider time)
{
    public const string LogBlobName = "digests.log";
    private const int MaxAttempts = 10;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Hashes all chain heads now and appends the digest line.</summary>
    public async Task<LedgerDigest> WriteAsync(CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var heads = await ReadHeadsAsync(cancellationToken);
        var headsBytes = JsonSerializer.SerializeToUtf8Bytes(heads, Json);
        var container = storage.BlobContainer(BlobContainerNames.LedgerDigests);
        var log = container.GetAppendBlobClient(LogBlobName);
        await log.CreateIfNotExistsAsync(cancellationToken: cancellationToken);

        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var (lines, etag) = await ReadLogAsync(log, cancellationToken);
            var previous = lines.Count > 0 ? lines[^1].Digest : LedgerRow.GenesisHash;
            var now = time.GetUtcNow();
            var headsBlob = $"heads/{now:yyyyMMdd'T'HHmmssfff'Z'}-{Guid.NewGuid():N}.json";
            await container.GetBlobClient(headsBlob).UploadAsync(BinaryData.FromBytes(headsBytes), overwrite: false, cancellationToken);
            var digest = new LedgerDigest(now, heads.Count, Compute(previous, headsBytes), previous, headsBlob);
            var line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(digest, Json) + "\n");
            try
            {
                using var stream = new MemoryStream(line);
                await log.AppendBlockAsync(stream, new AppendBlobAppendBlockOptions { Conditions = new AppendBlobRequestConditions { IfMatch = etag } }, cancellationToken);
                return digest;
            }
            catch (RequestFailedException ex) when (ex.Status == 412)
            {
                // Another digest was appended meanwhile: ours must cover it, so build again.
            }
        }

        throw new InvalidOperationException($"The digest log changed concurrently on each of {MaxAttempts} attempts.");
    }

    /// <summary>The last digest and its heads, with any break in the digest log itself; null when none was written yet.</summary>
    public async Task<CheckedDigest?> ReadLastAsync(CancellationToken cancellationToken = default)
    {
        var container = storage.BlobContainer(BlobContainerNames.LedgerDigests);
        var log = container.GetAppendBlobClient(LogBlobName);
        if (!await container.ExistsAsync(cancellationToken) || !await log.ExistsAsync(cancellationToken))
        {
            return null;
        }

        var (lines, _) = await ReadLogAsync(log, cancellationToken);
        if (lines.Count == 0)
        {
            return null;
        }

        var problems = new List<string>();
        for (var i = 1; i < lines.Count; i++)
        {
            if (lines[i].PreviousDigest != lines[i - 1].Digest)
            {
                problems.Add($"digest line {i + 1} does not follow line {i}");
            }
        }

        var last = lines[^1];
        var headsBlob = container.GetBlobClient(last.HeadsBlob);
        if (!await headsBlob.ExistsAsync(cancellationToken))
        {
            problems.Add($"the head list {last.HeadsBlob} of the last digest is missing");
            return new CheckedDigest(last, [], problems);
        }

        var bytes = (await headsBlob.DownloadContentAsync(cancellationToken)).Value.Content.ToArray();
        if (Compute(last.PreviousDigest, bytes) != last.Digest)
        {
            problems.Add($"the head list {last.HeadsBlob} does not match the last digest");
        }

        var heads = JsonSerializer.Deserialize<List<ChainHeadSnapshot>>(bytes, Json) ?? [];
        return new CheckedDigest(last, heads, problems);
    }

    private async Task<List<ChainHeadSnapshot>> ReadHeadsAsync(CancellationToken cancellationToken)
    {
        var table = storage.Table(TableNames.DisclosureLedger);
        var heads = new List<ChainHeadSnapshot>();
        var filter = TableClient.CreateQueryFilter($"RowKey eq {LedgerRow.HeadRowKey}");
        await foreach (var head in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            heads.Add(new ChainHeadSnapshot(head.PartitionKey, head.GetInt64(LedgerRow.Seq) ?? 0, head.GetString(LedgerRow.Hash) ?? string.Empty));
        }

        return heads.OrderBy(h => h.SubjectRef, StringComparer.Ordinal).ToList();
    }

    private static async Task<(List<LedgerDigest> Lines, ETag ETag)> ReadLogAsync(AppendBlobClient log, CancellationToken cancellationToken)
    {
        var content = await log.DownloadContentAsync(cancellationToken);
        var lines = content.Value.Content.ToString()
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonSerializer.Deserialize<LedgerDigest>(l, Json)!)
            .ToList();
        return (lines, content.Value.Details.ETag);
    }

    private static string Compute(string previousDigest, byte[] headsBytes)
    {
        var prefix = Encoding.UTF8.GetBytes(previousDigest + "\n");
        return Convert.ToHexStringLower(SHA256.HashData([.. prefix, .. headsBytes]));
    }
}
