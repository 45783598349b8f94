using System.Text;
using Cafetalk.Integrations.Http;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>
/// <c>GET /api/members/{id}/disclosures?format=json|csv&amp;lang=ja|en</c> for the privacy office: every disclosure of
/// the member, answered from the ledger. It needs the privacy office's own key (<see cref="PrivacyOfficeCredential"/>)
/// besides the function key the host checks.
/// </summary>
public sealed class DisclosureExportFlow(DisclosureExport export, PrivacyOfficeCredential credential)
{
    public const string Route = "members/{memberId}/disclosures";

    /// <summary>The member's disclosures as a JSON document or a CSV download; <paramref name="presentedKey"/> is every value of the key header.</summary>
    public async Task<FlowOutcome> ExportAsync(IReadOnlyList<string?> presentedKey, string memberId, string? format, string? lang, CancellationToken cancellationToken = default)
    {
        if (!credential.IsPresentedIn(presentedKey))
        {
            return Problem(401, "privacy-office-credential", $"This route needs the privacy office's key in the {PrivacyOfficeCredential.HeaderName} header.");
        }

        if (memberId.Length is 0 or > 64 || !memberId.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
        {
            return Problem(400, "member-id", "The member id must be 1-64 characters of A-Z a-z 0-9 _ . -");
        }

        format ??= "json";
        lang ??= "en";
        if (format is not ("json" or "csv") || lang is not ("ja" or "en"))
        {
            return Problem(400, "format", "format must be json or csv; lang must be ja or en.");
        }

        IReadOnlyList<DisclosureRecord> records;
        try
        {
            records = await export.ForMemberAsync(memberId, cancellationToken);
        }
        catch (SubjectMappingTamperedException ex)
        {
            // The mapping names a chain that is not provably the member's: answering from it could hand out another member's records.
            return Problem(409, "subject-mapping", ex.Message);
        }

        return format == "csv"
            ? new FlowOutcome.Document("text/csv; charset=utf-8", [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(DisclosureExport.ToCsv(records, lang == "ja"))], $"disclosures-{memberId}.csv")
            : new FlowOutcome.Document("application/json; charset=utf-8", Encoding.UTF8.GetBytes(DisclosureExport.ToJson(memberId, records)));
    }

    private static FlowOutcome.Refused Problem(int status, string type, string detail) =>
        new(status, new FlowProblem("https://cafetalk.com/problems/disclosures/" + type, "Disclosure export refused", detail));
}
