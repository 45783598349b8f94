using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>
/// <c>GET /api/members/{id}/disclosures?format=json|csv&amp;lang=ja|en</c> for the privacy office: every disclosure of
/// the member, answered from the ledger. It needs the privacy office's own key (<see cref="PrivacyOfficeCredential"/>)
/// besides the function key the host checks.
/// </summary>
public sealed class DisclosureExportEndpoint(DisclosureExport export, PrivacyOfficeCredential credential)
{
    public const string Route = "members/{memberId}/disclosures";

    public async Task<IActionResult> GetAsync(HttpRequest request, string memberId)
    {
        if (!credential.IsPresentedBy(request))
        {
            return Problem(StatusCodes.Status401Unauthorized, "privacy-office-credential", $"This route needs the privacy office's key in the {PrivacyOfficeCredential.HeaderName} header.");
        }

        if (memberId.Length is 0 or > 64 || !memberId.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
        {
            return Problem(StatusCodes.Status400BadRequest, "member-id", "The member id must be 1-64 characters of A-Z a-z 0-9 _ . -");
        }

        var format = request.Query["format"].FirstOrDefault() ?? "json";
        var lang = request.Query["lang"].FirstOrDefault() ?? "en";
        if (format is not ("json" or "csv") || lang is not ("ja" or "en"))
        {
            return Problem(StatusCodes.Status400BadRequest, "format", "format must be json or csv; lang must be ja or en.");
        }

        IReadOnlyList<DisclosureRecord> records;
        try
        {
            records = await export.ForMemberAsync(memberId, request.HttpContext.RequestAborted);
        }
        catch (SubjectMappingTamperedException ex)
        {
            // The mapping names a chain that is not provably the member's: answering from it could hand out another member's records.
            return Problem(StatusCodes.Status409Conflict, "subject-mapping", ex.Message);
        }

        request.HttpContext.Response.Headers.CacheControl = "no-store";
        return format == "csv"
            ? new FileContentResult(Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(DisclosureExport.ToCsv(records, lang == "ja"))).ToArray(), "text/csv; charset=utf-8")
            {
                FileDownloadName = $"disclosures-{memberId}.csv",
            }
            : new ContentResult { StatusCode = 200, ContentType = "application/json; charset=utf-8", Content = DisclosureExport.ToJson(memberId, records) };
    }

    private static ObjectResult Problem(int status, string type, string detail) =>
        new(new ProblemDetails { Type = "https://cafetalk.com/problems/disclosures/" + type, Title = "Disclosure export refused", Status = status, Detail = detail })
        {
            StatusCode = status,
            ContentTypes = { "application/problem+json" },
        };
}
