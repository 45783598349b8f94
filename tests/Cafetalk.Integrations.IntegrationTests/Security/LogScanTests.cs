using System.Reflection;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Sandbox;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Cafetalk.Integrations.IntegrationTests.Security;

/// <summary>
/// The whole suite's log scan. <see cref="LogCaptureTestFramework"/> runs this class after every other one, in the
/// same process, so it reads what every test class made the code under test write (<see cref="LogCapture"/>) and
/// looks for every value the tests planted. It fails when it finds one (naming test class, line and kind, never
/// the value) and when the capture is too thin to mean anything: run on its own or on a filtered subset it fails.
/// </summary>
[Collection(CollectionName)]
[Trait("Category", "LogScan")]
public sealed class LogScanTests(ITestOutputHelper output)
{
    public const string CollectionName = "Log scan (runs after every other test class)";

    // The whole suite writes well over this; a capture this thin means loggers were not attached.
    private const int MinimumLogLines = 2_000;

    /// <summary>Kinds a source prints because that is its job: a command asked for a link or a secret prints it.</summary>
    private static readonly Dictionary<string, IReadOnlySet<string>> PrintedOnPurpose = new()
    {
        ["stdout of 'newsletter headers'"] = new HashSet<string> { "unsubscribe-token" },
        ["stdout of 'connect-link'"] = new HashSet<string> { "connect-ticket" },
        ["stdout of 'serve'"] = new HashSet<string> { "unsubscribe-token", "connect-ticket", "zoom-webhook-secret", "function-key" },
    };

    /// <summary>Kinds the suite must have planted, or the scan proves nothing about them.</summary>
    private static readonly string[] RequiredKinds =
    [
        .. SampleEvents.Planted.Select(p => p.Kind),
        "field-protection-key", "newsletter-token-key", "calendar-ticket-key", "zoom-webhook-secret", "vimeo-access-token", "mail-api-key",
        "zoom-access-token", "zoom-download-token", "zoom-join-url",
        "google-auth-code", "google-access-token", "google-refresh-token", "oauth-state", "pkce-verifier",
        "function-key", "state-cookie",
    ];

    [Fact]
    public void WholeSuite_LogsAndCliOutput_HoldNoPlantedValue()
    {
        var lines = LogCapture.Snapshot();
        var planted = LogCapture.PlantedValues();
        var expectedClasses = typeof(LogScanTests).Assembly.GetTypes()
            .Where(t => t != typeof(LogScanTests) && !t.IsAbstract && t.GetMethods().Any(m => m.GetCustomAttributes<FactAttribute>(inherit: true).Any()))
            .Select(t => t.Name)
            .ToHashSet(StringComparer.Ordinal);
        var notRun = expectedClasses.Except(LogCapture.FinishedClasses).Order(StringComparer.Ordinal).ToList();
        var missingKinds = RequiredKinds.Except(planted.Select(p => p.Kind)).ToList();
        var logLines = lines.Count(l => l.Source is "log" or "scope");
        var scanner = new LeakScanner(planted, PrintedOnPurpose);

        var leaks = scanner.Scan(lines).ToList();

        var summary = $"log scan: {lines.Count} lines ({logLines} log entries and scopes, {lines.Count - logLines} lines of CLI output) from "
            + $"{lines.Select(l => l.TestClass).Distinct().Count()} test classes; {planted.Count} planted values of {planted.Select(p => p.Kind).Distinct().Count()} kinds "
            + $"({scanner.NeedleCount} forms searched); {leaks.Count} hits";
        output.WriteLine(summary);
        if (Environment.GetEnvironmentVariable(LogCapture.DirectoryVariable) is { Length: > 0 } directory)
        {
            File.WriteAllText(Path.Combine(directory, "log-scan-summary.txt"), summary + Environment.NewLine);
        }

        var problems = new List<string>();
        if (leaks.Count > 0)
        {
            problems.Add($"{leaks.Count} planted value(s) found in captured output (values not shown):{Environment.NewLine}"
                + string.Join(Environment.NewLine, leaks.Take(100).Select(l => $"  {l.Line.TestClass}, capture line {l.Line.Number} ({l.Line.Source}): {l.Kind}")));
        }

        if (notRun.Count > 0)
        {
            problems.Add("The scan covers the whole suite only when it runs after every test class in one run (./test.sh, or dotnet test on the whole project); "
                + $"{notRun.Count} of {expectedClasses.Count} classes did not run before it: {string.Join(", ", notRun.Take(20))}");
        }

        if (logLines < MinimumLogLines)
        {
            problems.Add($"Only {logLines} log entries were captured (at least {MinimumLogLines} expected): are the loggers attached?");
        }

        if (missingKinds.Count > 0)
        {
            problems.Add($"Nothing of these kinds was planted, so the scan proves nothing about them: {string.Join(", ", missingKinds)}");
        }

        Assert.True(problems.Count == 0, summary + Environment.NewLine + string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void Scanner_FindsEveryPlantedKind_InEveryForm_AndEachShape()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2027, 3, 1, 9, 0, 0, TimeSpan.Zero));
        var key = Convert.ToBase64String(new byte[32]);
        var unsubscribe = new UnsubscribeTokens(Options.Create(new NewsletterOptions { PublicBaseUrl = new Uri("https://x.example/"), CurrentTokenKeyId = "k1", TokenKeys = new() { ["k1"] = key } }))
            .Issue("sub_7c1d2e", "cafetalk-news");
        var ticket = new ConnectTickets(Options.Create(new GoogleCalendarOptions { CurrentTicketKeyId = "k1", TicketKeys = { ["k1"] = key } }), time).Issue("lec_4412");
        var planted = SampleEvents.Planted.Append(new PlantedValue("oauth-state", "q0Zx8mXf1S2kqP3nT4vW5yZ6aB7cD8eF9gH0iJ1kL2m")).ToList();
        var scanner = new LeakScanner(planted);

        Assert.Empty(scanner.KindsIn("Booking bk_1 converged for lecturer lec_4412 (correlation 0f8e9d) in 120 ms"));
        foreach (var value in planted)
        {
            Assert.Contains(value.Kind, scanner.KindsIn($"before {value.Value} after"));
            Assert.Contains(value.Kind, scanner.KindsIn($"before {value.Value.ToUpperInvariant()} after"));
            Assert.Contains(scanner.KindsIn($"url ?x={Uri.EscapeDataString(value.Value)}&y"), k => k.StartsWith(value.Kind, StringComparison.Ordinal));
        }

        Assert.Contains("student-name (JSON-escaped)", scanner.KindsIn("{\"name\":\"\\u5C71\\u7530 \\u82B1\\u5B50\"}"));
        Assert.Contains("student-email (local part)", scanner.KindsIn("mailbox hanako.yamada was refused"));
        Assert.Contains("email-address (by shape)", scanner.KindsIn("suppressed someone.else@example.org"));
        Assert.Contains("unsubscribe-token (by shape)", scanner.KindsIn($"GET /api/newsletter/unsubscribe?t={unsubscribe} 200"));
        Assert.Contains("connect-ticket (by shape)", scanner.KindsIn($"GET /api/calendar/connect?ticket={Uri.EscapeDataString(ticket)}"));
        Assert.Contains("google-refresh-token (by shape)", scanner.KindsIn("token=1//0gAbCdEfGhIjKlMnOpQrStUvWxYz0123456789"));
        Assert.Contains("zoom-download-token (by shape)", scanner.KindsIn("download?access_token=dl-0123456789abcdef0123456789abcdef"));
        Assert.Contains("bearer-credential (by shape)", scanner.KindsIn("Authorization: Bearer abcdefghijklmnopqrstuvwxyz"));
        Assert.Contains("zoom-join-url (by shape)", scanner.KindsIn("location https://zoom.us/j/81000000001?pwd=abc"));
        Assert.Empty(new LeakScanner(planted, PrintedOnPurpose).Scan([new CapturedLine(1, "x", "stdout of 'newsletter headers'", unsubscribe)]));
        Assert.Single(new LeakScanner(planted, PrintedOnPurpose).Scan([new CapturedLine(1, "x", "log", unsubscribe)]));
    }
}
