using System.Reflection;
using System.Text.Json;

namespace Cafetalk.Integrations.Tests.Functions;

/// <summary>
/// Reads the functions.metadata the Functions SDK generates at build, so a renamed queue, schedule setting or
/// route fails here rather than in production.
/// </summary>
public sealed partial class FunctionsMetadataTests
{
    /// <summary>Every function the app exposes: name → (trigger, queue, schedule setting, route, methods).</summary>
    private static readonly Dictionary<string, ExpectedTrigger> Expected = new(StringComparer.Ordinal)
    {
        ["BookingEventIntakeFunction"] = new("queueTrigger", Queue: "booking-events", Connection: "AzureWebJobsStorage"),
        ["LedgerDigestFunction"] = new("timerTrigger", Schedule: "%LedgerDigestSchedule%"),
        ["LedgerRetentionPurge"] = new("timerTrigger", Schedule: "%LedgerRetentionSchedule%"),
        ["ZoomConvergeFunction"] = new("queueTrigger", Queue: "zoom-converge", Connection: "AzureWebJobsStorage"),
        ["ZoomRepairFunction"] = new("timerTrigger", Schedule: "%ZoomRepairSchedule%"),
        ["ZoomMeetingChangedFunction"] = new("queueTrigger", Queue: "zoom-meeting-changes", Connection: "AzureWebJobsStorage"),
        ["LessonRecordingFunction"] = new("queueTrigger", Queue: "zoom-events", Connection: "AzureWebJobsStorage"),
        ["RecordingConvergeFunction"] = new("queueTrigger", Queue: "recording-converge", Connection: "AzureWebJobsStorage"),
        ["RecordingRetentionFunction"] = new("timerTrigger", Schedule: "%VimeoRetentionSchedule%"),
        ["ZoomWebhookFunction"] = new("httpTrigger", Route: "zoom/webhook", Methods: ["POST"], AuthLevel: "Anonymous"),
        ["ZoomStartLinkFunction"] = new("httpTrigger", Route: "zoom/start-link/{lecturerId}/{bookingId}", Methods: ["POST"], AuthLevel: "Function"),
        ["NewsletterSubscribed"] = new("queueTrigger", Queue: "newsletter-events", Connection: "AzureWebJobsStorage"),
        ["MailSuppression"] = new("queueTrigger", Queue: "mail-suppressions", Connection: "AzureWebJobsStorage"),
        ["NewsletterReconcile"] = new("timerTrigger", Schedule: "%NewsletterReconcileSchedule%"),
        ["MemberErasureRequested"] = new("queueTrigger", Queue: "erasure-requests", Connection: "AzureWebJobsStorage"),
        ["ErasureRetry"] = new("timerTrigger", Schedule: "%ErasureRetrySchedule%"),
        ["HostPoisonSweepFunction"] = new("timerTrigger", Schedule: "%HostPoisonSweepSchedule%"),
        ["StartsSoonFunction"] = new("timerTrigger", Schedule: "%StartsSoonSchedule%"),
        ["MemberDisclosures"] = new("httpTrigger", Route: "members/{memberId}/disclosures", Methods: ["GET"], AuthLevel: "Function"),
        ["PrivacyOfficeErasure"] = new("httpTrigger", Route: "members/{memberId}/erasure", Methods: ["POST"], AuthLevel: "Function"),
        ["NewsletterUnsubscribePage"] = new("httpTrigger", Route: "newsletter/unsubscribe", Methods: ["GET"], AuthLevel: "Anonymous"),
        ["NewsletterUnsubscribe"] = new("httpTrigger", Route: "newsletter/unsubscribe", Methods: ["POST"], AuthLevel: "Anonymous"),
        ["NewsletterResubscribe"] = new("httpTrigger", Route: "newsletter/resubscribe", Methods: ["POST"], AuthLevel: "Anonymous"),
        ["CalendarConnect"] = new("httpTrigger", Route: "calendar/connect", Methods: ["GET"], AuthLevel: "Anonymous"),
        ["CalendarConfirmReplace"] = new("httpTrigger", Route: "calendar/connect", Methods: ["POST"], AuthLevel: "Anonymous"),
        ["CalendarCallback"] = new("httpTrigger", Route: "calendar/callback", Methods: ["GET"], AuthLevel: "Anonymous"),
        ["CalendarDisconnect"] = new("httpTrigger", Route: "calendar/disconnect", Methods: ["POST"], AuthLevel: "Function"),
        ["CalendarConvergeFunction"] = new("queueTrigger", Queue: "calendar-converge", Connection: "AzureWebJobsStorage"),
        ["CalendarSyncFunction"] = new("timerTrigger", Schedule: "%CalendarSyncSchedule%"),
        ["CalendarNotificationFunction"] = new("httpTrigger", Route: "google/calendar-notifications", Methods: ["POST"], AuthLevel: "Anonymous"),
        ["CalendarChangesFunction"] = new("queueTrigger", Queue: "calendar-changes", Connection: "AzureWebJobsStorage"),
        ["CalendarWatchRenewalFunction"] = new("timerTrigger", Schedule: "%CalendarWatchSchedule%"),
    };

    private sealed record ExpectedTrigger(string Type, string? Queue = null, string? Connection = null, string? Schedule = null, string? Route = null, string[]? Methods = null, string? AuthLevel = null);

    internal static JsonElement[] ReadMetadata()
    {
        var path = FunctionsOutput("functions.metadata");
        Assert.True(File.Exists(path), $"functions.metadata not found at {path}: build the Functions project first.");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    /// <summary>A file in the Functions app's build output, built with the same configuration as this test.</summary>
    private static string FunctionsOutput(string file)
    {
        var configuration = typeof(FunctionsMetadataTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        return Path.Combine(FindRepositoryRoot(), "src", "Cafetalk.Integrations.Functions", "bin", configuration, "net10.0", file);
    }

    internal static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Cafetalk.Integrations.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Repository root not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void Metadata_ListsExactlyTheExpectedFunctions()
    {
        var names = ReadMetadata().Select(f => f.GetProperty("name").GetString()!).Order(StringComparer.Ordinal);

        Assert.Equal(Expected.Keys.Order(StringComparer.Ordinal), names);
    }

    [Fact]
    public void Metadata_EveryTrigger_MatchesItsQueueScheduleAndRoute()
    {
        foreach (var function in ReadMetadata())
        {
            var name = function.GetProperty("name").GetString()!;
            var expected = Expected[name];
            var trigger = function.GetProperty("bindings").EnumerateArray()
                .Single(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));

            Assert.Equal(expected.Type, trigger.GetProperty("type").GetString());
            Assert.Equal(expected.Queue, Optional(trigger, "queueName"));
            Assert.Equal(expected.Connection, Optional(trigger, "connection"));
            Assert.Equal(expected.Schedule, Optional(trigger, "schedule"));
            Assert.Equal(expected.Route, Optional(trigger, "route"));
            Assert.Equal(expected.AuthLevel, Optional(trigger, "authLevel"));
            if (expected.Methods is not null)
            {
                var methods = trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()).Order(StringComparer.Ordinal);
                Assert.Equal(expected.Methods.Order(StringComparer.Ordinal), methods);
            }
        }
    }

    [Fact]
    public void Metadata_TimerTriggers_NeverRunOnStartup()
    {
        foreach (var trigger in ReadMetadata().SelectMany(f => f.GetProperty("bindings").EnumerateArray())
                     .Where(b => b.GetProperty("type").GetString() == "timerTrigger"))
        {
            Assert.False(trigger.TryGetProperty("runOnStartup", out var run) && run.GetBoolean());
        }
    }

    /// <summary>The app settings the timers read their schedules from (<c>%Name%</c> in the metadata), by name.</summary>
    internal static string[] TimerScheduleSettings() =>
    [
        .. ReadMetadata().SelectMany(f => f.GetProperty("bindings").EnumerateArray())
            .Where(b => b.GetProperty("type").GetString() == "timerTrigger")
            .Select(b => b.GetProperty("schedule").GetString()!.Trim('%'))
            .Order(StringComparer.Ordinal),
    ];

    /// <summary>Six fields (seconds first), each a number, a list, a range, a step or <c>*</c>: what the Functions host accepts.</summary>
    internal static bool IsNcrontab(string value) => NcrontabPattern().IsMatch(value);

    [System.Text.RegularExpressions.GeneratedRegex(@"^([0-9*/,\-]+ ){5}[0-9*/,\-]+$")]
    private static partial System.Text.RegularExpressions.Regex NcrontabPattern();

    [Fact]
    public void SampleLocalSettings_GiveEveryTimerASchedule()
    {
        // A timer whose %Setting% has no value stops the whole host at startup, not only that timer.
        using var sample = JsonDocument.Parse(File.ReadAllText(Path.Combine(FindRepositoryRoot(), "src", "Cafetalk.Integrations.Functions", "local.settings.sample.json")));
        var values = sample.RootElement.GetProperty("Values");

        var settings = TimerScheduleSettings();

        Assert.Equal(10, settings.Length);
        Assert.All(settings, name => Assert.True(values.TryGetProperty(name, out var value) && IsNcrontab(value.GetString()!),
            $"local.settings.sample.json gives timer setting '{name}' no six-field NCRONTAB value."));
    }

    [Theory]
    [InlineData("0 20 3 * * *", true)]
    [InlineData("0 */5 * * * 1-5", true)]
    [InlineData("20 3 * * *", false)]
    [InlineData("", false)]
    [InlineData("%ZoomRepairSchedule%", false)]
    public void IsNcrontab_AcceptsSixFieldsOnly(string value, bool expected) => Assert.Equal(expected, IsNcrontab(value));

    [Fact]
    public void HostJson_IsTheRootFileLinkedIntoTheApp()
    {
        var built = FunctionsOutput("host.json");

        Assert.Equal(File.ReadAllText(Path.Combine(FindRepositoryRoot(), "host.json")), File.ReadAllText(built));
        using var host = JsonDocument.Parse(File.ReadAllText(built));
        var queues = host.RootElement.GetProperty("extensions").GetProperty("queues");
        Assert.Equal(5, queues.GetProperty("maxDequeueCount").GetInt32());
        Assert.Equal("00:00:30", queues.GetProperty("visibilityTimeout").GetString());
        Assert.Equal(16, queues.GetProperty("batchSize").GetInt32());
    }

    private static string? Optional(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
