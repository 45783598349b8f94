using System.Text;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>Renders the policy as docs/privacy.md's disclosure table, so the document cannot drift from the code.</summary>
public static class DisclosurePolicyDocument
{
    public const string BeginMarker = "<!-- disclosure-policy:begin -->";
    public const string EndMarker = "<!-- disclosure-policy:end -->";
    public const string RegenerateCommand = "dotnet run --project src/Cafetalk.Integrations.Cli -- policy table --write-docs";

    /// <summary>The document, relative to the repository root, that holds the generated table.</summary>
    public const string DocumentPath = "docs/privacy.md";

    /// <summary>The markdown section (heading, note, table) for <paramref name="policy"/>.</summary>
    public static string ToMarkdown(DisclosurePolicy policy)
    {
        var md = new StringBuilder();
        md.Append("## Disclosure policy\n\n");
        md.Append("What leaves Cafetalk, to whom and why. Generated from `src/Cafetalk.Integrations/Disclosure/DisclosurePolicy.Cafetalk.cs` by\n");
        md.Append('`').Append(RegenerateCommand).Append("`; a unit test fails when this table is stale.\n");
        md.Append("Fields: body fields dotted, `[]` for array items, `query:` query parameters, `path:` values in the URL path;\n");
        md.Append("whose data each is in brackets (L lecturer, S student, L+S both, M the member, – not personal data).\n\n");
        md.Append("| recipient (country) | purpose | clause | legal basis | recipient keeps it | routes | allowlisted fields |\n");
        md.Append("| --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (var p in policy.Purposes)
        {
            var foreign = p.Recipient.IsForeignTransfer ? "; foreign transfer, APPI Art. 28" : string.Empty;
            md.Append("| ").Append(p.Recipient.LegalName).Append(" (").Append(p.Recipient.Country).Append(foreign).Append(") | ")
              .Append('`').Append(p.Id).Append("`: ").Append(p.Description).Append(" | ")
              .Append(p.PolicyClause).Append(" | ")
              .Append(p.LegalBasis).Append(" | ")
              .Append(p.Retention).Append(" | ")
              .AppendJoin("<br>", p.Routes.Select(r => $"`{r.Method} {r.PathTemplate}`")).Append(" | ")
              .AppendJoin(", ", p.Fields.Select(f => $"`{f.Path}` ({Owner(f.Owner)})")).Append(" |\n");
        }

        return md.ToString();
    }

    /// <summary>The document with the text between the markers replaced by <paramref name="section"/>.</summary>
    public static string ReplaceSection(string document, string section) =>
        MarkedSection.Replace(document, BeginMarker, EndMarker, section, DocumentPath);

    private static string Owner(DataOwner owner) => owner switch
    {
        DataOwner.Lecturer => "L",
        DataOwner.Student => "S",
        DataOwner.Both => "L+S",
        DataOwner.Member => "M",
        _ => "–",
    };
}
