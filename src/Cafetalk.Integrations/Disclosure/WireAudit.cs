using System.Text;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>
/// Checks requests after the fact, as a provider received them (the Sandbox's records): which field paths of the
/// body and query are outside everything the policy allows that recipient. The gate refuses such requests before
/// they leave; this audit proves, from the other side of the wire, that none got through.
/// </summary>
public static class WireAudit
{
    public static IReadOnlyList<string> FieldsOutsideAllowlist(DisclosurePolicy policy, Recipient recipient, string query, string body)
    {
        var allowed = policy.Purposes.Where(p => p.Recipient == recipient).SelectMany(p => p.Fields).Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        var seen = new List<string>(RequestFieldPaths.FromQuery(new Uri("http://audit.invalid/" + (query.Length == 0 || query.StartsWith('?') ? query : "?" + query))));
        var trimmed = body.TrimStart();
        if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
        {
            try
            {
                seen.AddRange(RequestFieldPaths.FromJson(Encoding.UTF8.GetBytes(body)));
            }
            catch (UninspectableBodyException)
            {
                seen.Add("<unreadable-json>");
            }
        }
        else if (trimmed.Length > 0 && trimmed.Contains('=', StringComparison.Ordinal))
        {
            seen.AddRange(RequestFieldPaths.FromQuery(new Uri("http://audit.invalid/?" + trimmed)).Select(p => p["query:".Length..]));
        }

        return seen.Where(p => !allowed.Contains(p)).Distinct(StringComparer.Ordinal).ToList();
    }
}
