using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>Whose personal data a field carries; <see cref="None"/> means it is not personal data at all.</summary>
public enum DataOwner
{
    None,
    Lecturer,
    Student,
    /// <summary>A fact about the lesson itself (its time, its reference, its join link): data of both parties.</summary>
    Both,
    /// <summary>A member acting for themselves, not in a lesson role (newsletter subscriber).</summary>
    Member,
}

/// <summary>The role a member has in one disclosure; each role's rows go to that member's own chain.</summary>
public enum SubjectRole
{
    Lecturer,
    Student,
    Member,
}

/// <summary>
/// A third party we disclose to: its legal name, the country the data goes to (APPI Art. 28), and the hosts it answers
/// on: the gate sends nowhere else, and only over https on the default port.
/// </summary>
public sealed record Recipient(string Key, string LegalName, string Country, string CountryCode)
{
    /// <summary>The recipient's API hosts, exactly (no subdomains).</summary>
    public IReadOnlyList<string> Hosts { get; init; } = [];

    /// <summary>Outside Japan: a foreign transfer under APPI Art. 28.</summary>
    public bool IsForeignTransfer => CountryCode != "JP";
}

/// <summary>
/// One allowlisted field. Path syntax: body fields are dotted (<c>settings.waiting_room</c>), array items end in
/// <c>[]</c> (<c>recipient_emails[]</c>), query parameters are <c>query:name</c>, URL path values are <c>path:name</c>.
/// </summary>
public sealed record AllowedField(string Path, DataOwner Owner, string Meaning);

/// <summary>A request shape a purpose may use: method plus path template whose <c>{name}</c> segments are <c>path:name</c> fields.</summary>
public sealed partial record AllowedRoute(string Method, string PathTemplate)
{
    // Kept outside the record so equality and `with` copies see only Method and PathTemplate.
    private static readonly ConcurrentDictionary<string, Regex> Matchers = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Variables => TemplateVariable().Matches(PathTemplate).Select(m => m.Groups[1].Value).ToList();

    /// <summary>True when the request's method and path fit this route (each variable is exactly one non-empty segment).</summary>
    public bool Matches(HttpMethod method, string absolutePath)
    {
        if (!string.Equals(method.Method, Method, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var matcher = Matchers.GetOrAdd(PathTemplate, template => new Regex(
            "^" + TemplateVariable().Replace(Regex.Escape(template).Replace(@"\{", "{", StringComparison.Ordinal), "[^/]+") + "/?$",
            RegexOptions.CultureInvariant));
        return matcher.IsMatch(absolutePath);
    }

    [GeneratedRegex(@"\{([A-Za-z][A-Za-z0-9_]*)\}")]
    private static partial Regex TemplateVariable();
}

/// <summary>
/// What one recipient may receive for one purpose, and why: the policy clause, the legal basis, how long the
/// recipient keeps it, the routes it may be sent to and the allowlist of field paths.
/// </summary>
public sealed record DisclosurePurpose(
    string Id,
    Recipient Recipient,
    string Description,
    string PolicyClause,
    string LegalBasis,
    string Retention,
    IReadOnlyList<AllowedRoute> Routes,
    IReadOnlyList<AllowedField> Fields)
{
    // A linear search on purpose: a cached index would be carried over unchanged by `with` copies.
    public AllowedField? FindField(string path) => Fields.FirstOrDefault(f => string.Equals(f.Path, path, StringComparison.Ordinal));

    /// <summary>The personal fields of this purpose that are data of a member in <paramref name="role"/>.</summary>
    public IReadOnlyList<string> DataItemsOf(SubjectRole role) =>
        Fields.Where(f => Covers(f.Owner, role)).Select(f => f.Path).ToList();

    /// <summary>The roles whose data a field of <paramref name="owner"/> is.</summary>
    public static IEnumerable<SubjectRole> RolesOf(DataOwner owner) => owner switch
    {
        DataOwner.Lecturer => [SubjectRole.Lecturer],
        DataOwner.Student => [SubjectRole.Student],
        DataOwner.Both => [SubjectRole.Lecturer, SubjectRole.Student],
        DataOwner.Member => [SubjectRole.Member],
        _ => [],
    };

    public static bool Covers(DataOwner owner, SubjectRole role) => RolesOf(owner).Contains(role);
}

/// <summary>The reviewed set of recipients and purposes; the gate, the ledger and docs/privacy.md's table all read it.</summary>
public sealed partial class DisclosurePolicy
{
    private readonly Dictionary<string, DisclosurePurpose> _purposes;

    public DisclosurePolicy(IReadOnlyList<Recipient> recipients, IReadOnlyList<DisclosurePurpose> purposes)
    {
        Recipients = recipients;
        Purposes = purposes;
        // First one wins; Validate reports the duplicate.
        _purposes = purposes.GroupBy(p => p.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
    }

    public IReadOnlyList<Recipient> Recipients { get; }

    public IReadOnlyList<DisclosurePurpose> Purposes { get; }

    public DisclosurePurpose? FindPurpose(string id) => _purposes.GetValueOrDefault(id);

    public DisclosurePurpose GetPurpose(string id) =>
        FindPurpose(id) ?? throw new KeyNotFoundException($"Disclosure purpose '{id}' is not in the policy.");

    /// <summary>Problems that would make the policy unsafe or unreadable; empty when it is sound (a unit test insists).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        foreach (var purpose in Purposes)
        {
            if (!Recipients.Contains(purpose.Recipient))
            {
                problems.Add($"{purpose.Id}: recipient '{purpose.Recipient.Key}' is not listed");
            }

            foreach (var route in purpose.Routes)
            {
                problems.AddRange(route.Variables
                    .Where(v => purpose.FindField("path:" + v) is null)
                    .Select(v => $"{purpose.Id}: route {route.Method} {route.PathTemplate} uses undeclared path:{v}"));
            }

            problems.AddRange(purpose.Fields.GroupBy(f => f.Path).Where(g => g.Count() > 1).Select(g => $"{purpose.Id}: field {g.Key} is listed twice"));
            problems.AddRange(purpose.Fields
                .Where(f => f.Path.Contains('*', StringComparison.Ordinal))
                .Select(f => $"{purpose.Id}: wildcard field {f.Path} (list each field: a wildcard would let new fields through unreviewed)"));
            if (purpose.Routes.Count == 0)
            {
                problems.Add($"{purpose.Id}: no routes");
            }
        }

        problems.AddRange(Purposes.GroupBy(p => p.Id).Where(g => g.Count() > 1).Select(g => $"purpose {g.Key} is listed twice"));
        return problems;
    }
}
