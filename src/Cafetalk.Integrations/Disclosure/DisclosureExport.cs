using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>One disclosure of a member's data as the member is told about it (APPI Art. 33(5), GDPR Art. 15).</summary>
public sealed record DisclosureRecord(
    [property: JsonPropertyName("providedAtUtc")] DateTimeOffset ProvidedAtUtc,
    [property: JsonPropertyName("recipient")] string Recipient,
    [property: JsonPropertyName("country")] string Country,
    [property: JsonPropertyName("dataItems")] IReadOnlyList<string> DataItems,
    [property: JsonPropertyName("purpose")] string Purpose,
    [property: JsonPropertyName("policyClause")] string PolicyClause,
    [property: JsonPropertyName("legalBasis")] string LegalBasis,
    [property: JsonPropertyName("consentRecordId")] string ConsentRecordId,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("operation")] string Operation,
    [property: JsonPropertyName("bookingId")] string? BookingId,
    [property: JsonPropertyName("outcome")] string Outcome,
    [property: JsonPropertyName("outcomeAtUtc")] DateTimeOffset? OutcomeAtUtc);

/// <summary>Answers "to whom did you give my data?" for one member, through their pseudonym.</summary>
public sealed class DisclosureExport(SubjectRegistry subjects, DisclosureLedger ledger)
{
    /// <summary>Outcome shown while a disclosure has no recorded result yet (the nightly sync resolves it).</summary>
    public const string PendingOutcome = "Pending";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly string[] CsvHeader =
    [
        "providedAtUtc", "recipient", "country", "dataItems", "purpose", "policyClause", "legalBasis",
        "consentRecordId", "role", "operation", "bookingId", "outcome", "outcomeAtUtc",
    ];

    /// <summary>
    /// Every disclosure of the member, oldest first; empty when they have none or were erased. Throws
    /// <see cref="SubjectMappingTamperedException"/> rather than answer from a chain the mapping's commitment does not vouch for.
    /// </summary>
    public async Task<IReadOnlyList<DisclosureRecord>> ForMemberAsync(string memberId, CancellationToken cancellationToken = default)
    {
        var subjectRef = await subjects.FindAsync(memberId, cancellationToken);
        return subjectRef is null ? [] : await RecordsOfAsync(subjectRef, cancellationToken);
    }

    /// <summary>
    /// The same for an erased member, for the privacy office only: the sealed mapping is opened with its private key
    /// (the app never holds it). Null when the member has no sealed mapping.
    /// </summary>
    public async Task<IReadOnlyList<DisclosureRecord>?> ForErasedMemberAsync(string memberId, string privateKeyPem, CancellationToken cancellationToken = default) =>
        await subjects.OpenSealedAsync(memberId, privateKeyPem, cancellationToken) is { } opened
            ? await RecordsOfAsync(opened.Mapping.SubjectRef, cancellationToken)
            : null;

    private async Task<IReadOnlyList<DisclosureRecord>> RecordsOfAsync(string subjectRef, CancellationToken cancellationToken)
    {
        var chain = await ledger.ReadChainAsync(subjectRef, cancellationToken);
        var outcomes = chain.Where(e => e.IntentSeq is not null).GroupBy(e => e.IntentSeq!.Value).ToDictionary(g => g.Key, g => g.Last());
        return chain
            .Where(e => e.Outcome == DisclosureOutcome.Intended)
            .Select(intent =>
            {
                var outcome = outcomes.GetValueOrDefault(intent.Seq);
                return new DisclosureRecord(
                    intent.ProvidedAtUtc, intent.RecipientLegalName, intent.RecipientCountry, intent.DataItems,
                    intent.Purpose, intent.PolicyClause, intent.LegalBasis, intent.ConsentRecordId, intent.Role.ToString(),
                    intent.Operation, intent.BookingId, outcome?.Outcome.ToString() ?? PendingOutcome, outcome?.ProvidedAtUtc);
            })
            .ToList();
    }

    public static string ToJson(string memberId, IReadOnlyList<DisclosureRecord> records) =>
        JsonSerializer.Serialize(new { memberId, disclosures = records }, Json);

    /// <summary>The same columns in Japanese, for answering a member's request (APPI Art. 33(5)) in their language.</summary>
    private static readonly string[] CsvHeaderJapanese =
    [
        "提供日時(UTC)", "提供先", "提供先の国", "提供した項目", "利用目的", "プライバシーポリシー条項", "法的根拠",
        "同意記録ID", "本人の立場", "操作", "予約ID", "結果", "結果日時(UTC)",
    ];

    /// <summary>RFC 4180 CSV with a header row (English or Japanese column names); data items are separated by spaces inside their cell.</summary>
    public static string ToCsv(IReadOnlyList<DisclosureRecord> records, bool japaneseHeader = false)
    {
        var csv = new StringBuilder();
        csv.AppendJoin(',', japaneseHeader ? CsvHeaderJapanese : CsvHeader).Append("\r\n");
        foreach (var r in records)
        {
            string?[] cells =
            [
                LedgerRow.FormatUtc(r.ProvidedAtUtc), r.Recipient, r.Country, string.Join(' ', r.DataItems), r.Purpose, r.PolicyClause,
                r.LegalBasis, r.ConsentRecordId, r.Role, r.Operation, r.BookingId, r.Outcome, r.OutcomeAtUtc is { } at ? LedgerRow.FormatUtc(at) : null,
            ];
            csv.AppendJoin(',', cells.Select(Cell)).Append("\r\n");
        }

        return csv.ToString();
    }

    private static string Cell(string? value) => value is null
        ? string.Empty
        : value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
