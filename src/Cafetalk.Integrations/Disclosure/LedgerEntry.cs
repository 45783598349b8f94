using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>Where a disclosure stands: written before the request, then its result.</summary>
public enum DisclosureOutcome
{
    Intended,
    Succeeded,
    Failed,
}

/// <summary>
/// One ledger row: what APPI Art. 29 asks us to record (date, recipient, subject, data items) plus the
/// country (Art. 28), purpose and legal basis (GDPR Art. 15). Field names only, never values.
/// </summary>
public sealed record LedgerEntry(
    string SubjectRef,
    long Seq,
    DateTimeOffset ProvidedAtUtc,
    string RecipientLegalName,
    string RecipientCountry,
    string PurposeId,
    string Purpose,
    string PolicyClause,
    SubjectRole Role,
    IReadOnlyList<string> DataItems,
    string LegalBasis,
    string ConsentRecordId,
    string? BookingId,
    string? ProviderObjectId,
    string Operation,
    DisclosureOutcome Outcome,
    long? IntentSeq,
    string CorrelationId,
    DateTimeOffset RetainUntilUtc,
    string PrevHash,
    string Hash);

/// <summary>The table layout of ledger rows and heads, and the canonical encoding their hashes are taken over.</summary>
internal static class LedgerRow
{
    public const string HeadRowKey = "head";
    public const string GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";
    public const string Seq = nameof(Seq);
    public const string Hash = nameof(Hash);
    public const string PrevHash = nameof(PrevHash);
    public const string Outcome = nameof(Outcome);
    public const string IntentSeq = nameof(IntentSeq);
    public const string ProvidedAtUtc = nameof(ProvidedAtUtc);
    public const string RetainUntilUtc = nameof(RetainUntilUtc);

    // Head columns written by a retention purge: rows 1..PurgedThroughSeq are gone; AnchorHash is the last purged
    // row's hash, AnchorRow its canonical encoding (so its hash and RetainUntilUtc stay checkable), PurgedAtUtc when.
    public const string PurgedThroughSeq = nameof(PurgedThroughSeq);
    public const string AnchorHash = nameof(AnchorHash);
    public const string AnchorRow = nameof(AnchorRow);
    public const string PurgedAtUtc = nameof(PurgedAtUtc);

    // The hashed columns, in hash order. Changing this list or its encoding breaks every existing chain: add a v2 instead.
    private static readonly string[] HashedColumns =
    [
        Seq, ProvidedAtUtc, "RecipientLegalName", "RecipientCountry", "PurposeId", "Purpose", "PolicyClause",
        "SubjectRole", "DataItems", "LegalBasis", "ConsentRecordId", "BookingId", "ProviderObjectId", "Operation",
        Outcome, IntentSeq, "CorrelationId", "RetainUntilUtc", PrevHash,
    ];

    private const string EncodingVersion = "cafetalk-ledger/v1";

    // A row encodes to 600-800 bytes; starting at 1 KiB saves the buffer's growth from 256 bytes on every hash.
    private const int EncodingCapacity = 1024;

    public static string RowKeyOf(long seq) => seq.ToString("D19", CultureInfo.InvariantCulture);

    public static bool IsHead(TableEntity entity) => entity.RowKey == HeadRowKey;

    /// <summary>The one text form of a ledger time: UTC, milliseconds, <c>Z</c>.</summary>
    public static string FormatUtc(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Storage keeps times to the millisecond at best; truncating first makes the hash survive a round trip.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);

    public static TableEntity ToEntity(LedgerEntry e) => new(e.SubjectRef, RowKeyOf(e.Seq))
    {
        [Seq] = e.Seq,
        [ProvidedAtUtc] = e.ProvidedAtUtc,
        ["RecipientLegalName"] = e.RecipientLegalName,
        ["RecipientCountry"] = e.RecipientCountry,
        ["PurposeId"] = e.PurposeId,
        ["Purpose"] = e.Purpose,
        ["PolicyClause"] = e.PolicyClause,
        ["SubjectRole"] = e.Role.ToString(),
        ["DataItems"] = string.Join(',', e.DataItems),
        ["LegalBasis"] = e.LegalBasis,
        ["ConsentRecordId"] = e.ConsentRecordId,
        ["BookingId"] = e.BookingId,
        ["ProviderObjectId"] = e.ProviderObjectId,
        ["Operation"] = e.Operation,
        [Outcome] = e.Outcome.ToString(),
        [IntentSeq] = e.IntentSeq,
        ["CorrelationId"] = e.CorrelationId,
        ["RetainUntilUtc"] = e.RetainUntilUtc,
        [PrevHash] = e.PrevHash,
        [Hash] = e.Hash,
    };

    public static LedgerEntry FromEntity(TableEntity row) => new(
        row.PartitionKey,
        row.GetInt64(Seq) ?? -1,
        row.GetDateTimeOffset(ProvidedAtUtc) ?? DateTimeOffset.MinValue,
        row.GetString("RecipientLegalName") ?? string.Empty,
        row.GetString("RecipientCountry") ?? string.Empty,
        row.GetString("PurposeId") ?? string.Empty,
        row.GetString("Purpose") ?? string.Empty,
        row.GetString("PolicyClause") ?? string.Empty,
        Enum.TryParse<SubjectRole>(row.GetString("SubjectRole"), out var role) ? role : SubjectRole.Member,
        (row.GetString("DataItems") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries),
        row.GetString("LegalBasis") ?? string.Empty,
        row.GetString("ConsentRecordId") ?? string.Empty,
        row.GetString("BookingId"),
        row.GetString("ProviderObjectId"),
        row.GetString("Operation") ?? string.Empty,
        Enum.TryParse<DisclosureOutcome>(row.GetString(Outcome), out var outcome) ? outcome : DisclosureOutcome.Intended,
        row.GetInt64(IntentSeq),
        row.GetString("CorrelationId") ?? string.Empty,
        row.GetDateTimeOffset("RetainUntilUtc") ?? DateTimeOffset.MinValue,
        row.GetString(PrevHash) ?? string.Empty,
        row.GetString(Hash) ?? string.Empty);

    /// <summary>SHA-256 (lower-case hex) of the canonical encoding: a JSON array of version, partition and each hashed column.</summary>
    public static string ComputeHash(TableEntity row)
    {
        // Hashes the encoded bytes as written: the same bytes HashOfEncoding(CanonicalEncoding(row)) hashes, without the string round trip.
        var buffer = new ArrayBufferWriter<byte>(EncodingCapacity);
        WriteCanonicalEncoding(row, buffer);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(buffer.WrittenSpan, hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>SHA-256 (lower-case hex) of a canonical encoding produced by <see cref="CanonicalEncoding"/>.</summary>
    public static string HashOfEncoding(string encoding) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(encoding)));

    /// <summary>
    /// The exact text a row's hash is taken over (ASCII: the JSON writer escapes everything else). A purge anchor keeps
    /// it for the last purged row, so the verifier can check that row's hash and its RetainUntilUtc without the row.
    /// </summary>
    public static string CanonicalEncoding(TableEntity row)
    {
        var buffer = new ArrayBufferWriter<byte>(EncodingCapacity);
        WriteCanonicalEncoding(row, buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteCanonicalEncoding(TableEntity row, ArrayBufferWriter<byte> buffer)
    {
        using var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false });
        writer.WriteStartArray();
        writer.WriteStringValue(EncodingVersion);
        writer.WriteStringValue(row.PartitionKey);
        foreach (var column in HashedColumns)
        {
            WriteCanonical(writer, row.TryGetValue(column, out var value) ? value : null);
        }

        writer.WriteEndArray();
    }

    /// <summary>Reads a canonical encoding back: the partition and each hashed column's encoded text (<c>n:5</c>, <c>t:...</c>, or null).</summary>
    public static bool TryReadEncoded(string encoding, out string subjectRef, out IReadOnlyDictionary<string, string?> columns)
    {
        subjectRef = string.Empty;
        columns = new Dictionary<string, string?>();
        try
        {
            using var document = JsonDocument.Parse(encoding);
            var items = document.RootElement.EnumerateArray().ToList();
            if (items.Count != HashedColumns.Length + 2 || items[0].GetString() != EncodingVersion)
            {
                return false;
            }

            subjectRef = items[1].GetString() ?? string.Empty;
            columns = HashedColumns.Select((c, i) => (c, v: items[i + 2].ValueKind == JsonValueKind.Null ? null : items[i + 2].GetString()))
                .ToDictionary(x => x.c, x => x.v, StringComparer.Ordinal);
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return false;
        }
    }

    private static void WriteCanonical(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case DateTimeOffset d:
                writer.WriteStringValue("t:" + FormatUtc(d));
                break;
            case DateTime d:
                writer.WriteStringValue("t:" + FormatUtc(new DateTimeOffset(d.ToUniversalTime(), TimeSpan.Zero)));
                break;
            case long or int:
                writer.WriteStringValue("n:" + Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
            default:
                // A column whose type changed was edited; hashing its type name makes that visible.
                writer.WriteStringValue(value.GetType().Name + ":" + Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}
