using System.Buffers;
using System.Buffers.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cafetalk.Integrations.Sandbox;

namespace Cafetalk.Integrations.IntegrationTests.Infrastructure;

/// <summary>One finding: which line and what kind of value. Never the value itself.</summary>
public sealed record Leak(CapturedLine Line, string Kind);

/// <summary>
/// Looks for every planted value in every captured line (as written, URL-encoded, JSON-escaped, in any letter case;
/// an email also by its local part) and, whoever planted them, for values with an unmistakable shape: email
/// addresses, unsubscribe tokens, connect tickets, Google, Zoom and mail-service credentials, bearer headers and
/// Zoom join links.
/// </summary>
public sealed partial class LeakScanner
{
    private readonly SearchValues<string> _needles;
    private readonly Dictionary<string, string> _kindByNeedle = new(StringComparer.OrdinalIgnoreCase);
    private readonly IReadOnlyDictionary<string, IReadOnlySet<string>> _printedOnPurpose;

    /// <param name="printedOnPurpose">Kinds a line's source may hold because printing them is its job, by source (a command's stdout).</param>
    public LeakScanner(IEnumerable<PlantedValue> planted, IReadOnlyDictionary<string, IReadOnlySet<string>>? printedOnPurpose = null)
    {
        foreach (var value in planted)
        {
            foreach (var (form, suffix) in Forms(value))
            {
                _kindByNeedle.TryAdd(form, value.Kind + suffix);
            }
        }

        _needles = SearchValues.Create([.. _kindByNeedle.Keys], StringComparison.OrdinalIgnoreCase);
        _printedOnPurpose = printedOnPurpose ?? new Dictionary<string, IReadOnlySet<string>>();
    }

    public int NeedleCount => _kindByNeedle.Count;

    public IEnumerable<Leak> Scan(IEnumerable<CapturedLine> lines)
    {
        foreach (var line in lines)
        {
            var allowed = _printedOnPurpose.GetValueOrDefault(line.Source) ?? new HashSet<string>();
            foreach (var kind in KindsIn(line.Text).Distinct().Where(k => !allowed.Contains(Base(k))))
            {
                yield return new Leak(line, kind);
            }
        }
    }

    /// <summary>Every kind of value found in <paramref name="text"/>.</summary>
    public IReadOnlyList<string> KindsIn(string text)
    {
        var kinds = new List<string>();
        var offset = 0;
        while (offset < text.Length)
        {
            var at = text.AsSpan(offset).IndexOfAny(_needles);
            if (at < 0)
            {
                break;
            }

            var start = offset + at;
            // IndexOfAny says where, not which: the longest needle that starts there names the kind.
            var needle = _kindByNeedle.Keys.Where(n => string.Compare(text, start, n, 0, n.Length, StringComparison.OrdinalIgnoreCase) == 0).MaxBy(n => n.Length)!;
            kinds.Add(_kindByNeedle[needle]);
            offset = start + 1;
        }

        kinds.AddRange(Shapes.Where(s => s.Pattern.IsMatch(text)).Select(s => s.Kind));
        if (Base64UrlRun().Matches(text).Any(m => IsUnsubscribeToken(m.Value)))
        {
            kinds.Add("unsubscribe-token (by shape)");
        }

        return kinds;
    }

    private static string Base(string kind) => kind.Split(' ')[0];

    private static IEnumerable<(string Form, string Suffix)> Forms(PlantedValue value)
    {
        yield return (value.Value, string.Empty);
        var escaped = Uri.EscapeDataString(value.Value);
        if (escaped != value.Value)
        {
            yield return (escaped, " (URL-encoded)");
        }

        var json = JsonSerializer.Serialize(value.Value, new JsonSerializerOptions { Encoder = JavaScriptEncoder.Default })[1..^1];
        if (json != value.Value)
        {
            yield return (json, " (JSON-escaped)");
        }

        if (value.Value.IndexOf('@') is > 7 and var at && value.Kind.Contains("email", StringComparison.Ordinal))
        {
            yield return (value.Value[..at], " (local part)");
        }
    }

    /// <summary>Version 1, three length-prefixed parts and a 32-byte MAC: what <c>UnsubscribeTokens.Issue</c> makes.</summary>
    private static bool IsUnsubscribeToken(string candidate)
    {
        byte[] raw;
        try
        {
            raw = Base64Url.DecodeFromChars(candidate);
        }
        catch (FormatException)
        {
            return false;
        }

        var offset = 1;
        for (var part = 0; part < 3; part++)
        {
            if (raw.Length <= offset || raw[offset] == 0)
            {
                return false;
            }

            offset += 1 + raw[offset];
        }

        return raw.Length > 0 && raw[0] == 1 && offset + 32 == raw.Length;
    }

    private static readonly (string Kind, Regex Pattern)[] Shapes =
    [
        ("email-address (by shape)", EmailShape()),
        ("connect-ticket (by shape)", TicketShape()),
        ("google-access-token (by shape)", GoogleAccessShape()),
        ("google-refresh-token (by shape)", GoogleRefreshShape()),
        ("google-auth-code (by shape)", GoogleCodeShape()),
        ("zoom-download-token (by shape)", ZoomDownloadShape()),
        ("mail-api-key (by shape)", MailKeyShape()),
        ("bearer-credential (by shape)", BearerShape()),
        ("zoom-join-url (by shape)", JoinUrlShape()),
    ];

    [GeneratedRegex(@"[A-Za-z0-9._%+-]+(@|%40)[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")]
    private static partial Regex EmailShape();

    [GeneratedRegex(@"[A-Za-z0-9_.-]{1,64}(~|%7E)[A-Za-z0-9_.-]{1,64}(~|%7E)[0-9]{9,11}(~|%7E)([A-Za-z0-9_-]{22}(~|%7E))?[A-Za-z0-9_-]{43}", RegexOptions.IgnoreCase)]
    private static partial Regex TicketShape();

    [GeneratedRegex(@"ya29\.[A-Za-z0-9_-]{20,}")]
    private static partial Regex GoogleAccessShape();

    [GeneratedRegex(@"1(//|%2F%2F)[A-Za-z0-9_-]{20,}", RegexOptions.IgnoreCase)]
    private static partial Regex GoogleRefreshShape();

    [GeneratedRegex(@"(?<![A-Za-z0-9/])4(/|%2F)[A-Za-z0-9_-]{30,}", RegexOptions.IgnoreCase)]
    private static partial Regex GoogleCodeShape();

    [GeneratedRegex(@"\bd(l|at)-[0-9a-f]{32}\b")]
    private static partial Regex ZoomDownloadShape();

    [GeneratedRegex(@"SG\.[0-9a-f]{32}")]
    private static partial Regex MailKeyShape();

    [GeneratedRegex(@"Bearer\s+[A-Za-z0-9._~+/-]{16,}")]
    private static partial Regex BearerShape();

    [GeneratedRegex(@"/j/[0-9]+(\?|%3F)pwd", RegexOptions.IgnoreCase)]
    private static partial Regex JoinUrlShape();

    [GeneratedRegex(@"[A-Za-z0-9_-]{50,}")]
    private static partial Regex Base64UrlRun();
}
