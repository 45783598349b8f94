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
        return SeenFields(query, body).Where(p => !allowed.Contains(p)).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The purposes of <paramref name="recipient"/> whose routes a received request fits, each with the personal field
    /// paths (path values, query and body) the request carried for it: a request with any is a disclosure, and the
    /// ledger must hold its intent and outcome.
    /// </summary>
    public static IReadOnlyList<WirePersonalData> PersonalData(DisclosurePolicy policy, Recipient recipient, string method, string path, string query, string body)
    {
        var seen = SeenFields(query, body);
        var httpMethod = new HttpMethod(method);
        var found = new List<WirePersonalData>();
        foreach (var purpose in policy.Purposes.Where(p => p.Recipient == recipient))
        {
            foreach (var route in purpose.Routes.Where(r => r.Matches(httpMethod, path)))
            {
                var personal = route.Variables.Select(v => "path:" + v).Concat(seen)
                    .Where(f => purpose.FindField(f) is { Owner: not DataOwner.None })
                    .Distinct(StringComparer.Ordinal)
                    .ToList();
                found.Add(new WirePersonalData(purpose, route, personal));
            }
        }

        return found;
    }

    /// <summary>The field paths of a query and a JSON or form body, as the gate names them.</summary>
    private static List<string> SeenFields(string query, string body)
    {
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

        return seen;
    }
}

/// <summary>A purpose a received request fits, the route it fits, and the personal field paths it carried.</summary>
public sealed record WirePersonalData(DisclosurePurpose Purpose, AllowedRoute Route, IReadOnlyList<string> PersonalFields);
