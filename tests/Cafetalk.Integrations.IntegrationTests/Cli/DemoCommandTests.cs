using System.Text.Json;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;

namespace Cafetalk.Integrations.IntegrationTests.Cli;

/// <summary>The demo as a new user runs it: each run starts and stops its own Sandbox.</summary>
public sealed class DemoCommandTests
{
    private static Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) => CliRun.RunAsync(args);

    [Fact]
    public async Task Demo_Json_RunsTheWholeDay_WithNoDuplicateNoLeakAndAVerifiedLedger()
    {
        var wireLog = Path.GetTempFileName();
        try
        {
            var (exit, output, _) = await RunAsync("demo", "--json", "--wire-log", wireLog);

            Assert.Equal(0, exit);
            var report = JsonDocument.Parse(output).RootElement;
            var events = report.GetProperty("events");
            Assert.Equal(events.GetProperty("received").GetInt32(), events.GetProperty("processed").GetInt32() + events.GetProperty("rejected").GetInt32());
            var reasons = events.GetProperty("rejections").EnumerateArray()
                .ToDictionary(r => r.GetProperty("reason").GetString()!, r => r.GetProperty("count").GetInt32());
            Assert.Equal(new Dictionary<string, int> { ["not-json"] = 1, ["unknown-type"] = 1, ["duration-out-of-range"] = 1 }, reasons);
            foreach (var provider in new[] { "zoom", "google", "vimeo", "mail" })
            {
                Assert.True(report.GetProperty("providerRequests").GetProperty(provider).GetInt32() > 0, $"{provider} received nothing");
            }

            Assert.True(report.GetProperty("ledger").GetProperty("verified").GetBoolean());
            Assert.True(report.GetProperty("ledger").GetProperty("rows").GetInt64() > 0);
            Assert.Equal(0, report.GetProperty("duplicates").GetProperty("zoom").GetInt32());
            Assert.Equal(0, report.GetProperty("duplicates").GetProperty("google").GetInt32());
            Assert.Equal(0, report.GetProperty("leaks").GetProperty("fieldsOutsideAllowlist").GetInt32());
            // Three lecturers without their own Zoom user teach at 18:00: three pool hosts, no host with two meetings at once.
            Assert.Equal(0, report.GetProperty("zoomHosts").GetProperty("overlaps").GetInt32());
            Assert.True(report.GetProperty("zoomHosts").GetProperty("used").GetInt32() >= 3);
            Assert.Equal(0, report.GetProperty("zoomHosts").GetProperty("deferred").GetInt32());

            // The site's view: every notification is of a contract type and passes its schema; both connects and the erasure are told.
            var site = report.GetProperty("siteNotifications").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
            Assert.DoesNotContain("outside-the-contract", site.Keys);
            Assert.All(site.Keys, type => Assert.NotNull(Cafetalk.Integrations.Bookings.SiteNotificationTypes.Find(type)));
            Assert.Equal(2, site["com.cafetalk.calendar.connected"]);
            Assert.Equal(1, site["com.cafetalk.member.erasure-completed"]);
            // Through the outbox: one meeting.ready per booking that got a meeting (10 of the day's 12 outlive their cancels, the
            // three pool-host lessons and the starts-soon lesson), redelivered confirms adding none, plus one for the meeting
            // deleted in Zoom's portal and made again with a new link; one recording archived with both consents.
            Assert.Equal(14 + 1, site["com.cafetalk.meeting.ready"]);
            Assert.Equal(1, site["com.cafetalk.recording.available"]);

            // One lesson deleted by hand in Google (push) and one meeting in Zoom's portal (webhook): each seen, put back and told.
            var outside = report.GetProperty("outsideChanges");
            foreach (var provider in new[] { "google", "zoom" })
            {
                Assert.Equal((1, 1), (outside.GetProperty(provider).GetProperty("seen").GetInt32(), outside.GetProperty(provider).GetProperty("restored").GetInt32()));
            }

            // The lesson 90 minutes away whose zoom-converge message was poisoned gets its meeting from the starts-soon check.
            var soon = report.GetProperty("startsSoon");
            Assert.Equal((1, 1, 0), (soon.GetProperty("checked").GetInt32(), soon.GetProperty("rescued").GetInt32(), soon.GetProperty("atRisk").GetInt32()));

            var wire = await File.ReadAllTextAsync(wireLog);
            Assert.All(Cafetalk.Integrations.Sandbox.SampleEvents.PlantedPersonalValues, v => Assert.DoesNotContain(v, wire, StringComparison.Ordinal));
            Assert.DoesNotContain("access_token=dl-", wire, StringComparison.Ordinal);
            Assert.DoesNotContain("Bearer ", wire, StringComparison.Ordinal);
            Assert.DoesNotContain("Basic ", wire, StringComparison.Ordinal);
            Assert.All(wire.Split('\n', StringSplitOptions.RemoveEmptyEntries), line =>
            {
                var request = JsonDocument.Parse(line).RootElement;
                Assert.Equal(["authScheme", "body", "contentType", "headerNames", "method", "path", "provider", "query"], request.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            });
        }
        finally
        {
            File.Delete(wireLog);
        }
    }

    [Fact]
    public async Task Demo_EventsFileWithBadLines_CountsThemAsRejectedAndGoesOn()
    {
        var file = Path.GetTempFileName();
        try
        {
            var sample = await File.ReadAllLinesAsync(Path.Combine(AppContext.BaseDirectory, "Samples", "booking-events.sample.jsonl"));
            await File.WriteAllLinesAsync(file, [sample[0], "this line is not json", sample[0], "", "{\"specversion\":\"1.0\"}", .. sample[1..]]);

            var (exit, output, _) = await RunAsync("demo", "--events", file, "--json");

            Assert.Equal(0, exit);
            var events = JsonDocument.Parse(output).RootElement.GetProperty("events");
            Assert.Equal(10, events.GetProperty("received").GetInt32());
            Assert.Equal(8, events.GetProperty("processed").GetInt32());
            Assert.Equal(2, events.GetProperty("rejected").GetInt32());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Demo_TextOutput_ShowsTheCountsAndTheDesiredState()
    {
        var (exit, output, _) = await RunAsync("demo");

        Assert.Equal(0, exit);
        Assert.Contains("received", output, StringComparison.Ordinal);
        Assert.Contains("duration-out-of-range", output, StringComparison.Ordinal);
        Assert.Contains("Requests each provider received", output, StringComparison.Ordinal);
        Assert.Contains("verified", output, StringComparison.Ordinal);
        Assert.Contains("What the booking system heard back", output, StringComparison.Ordinal);
        Assert.Contains("Starts-soon check: 1 lesson(s) within 2 hours, 1 put right", output, StringComparison.Ordinal);
        Assert.Contains("To whom stu_demo_2's data went", output, StringComparison.Ordinal);
        Assert.DoesNotContain("hanako", output, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("demo", "--events", "/nonexistent/events.jsonl")]
    [InlineData("demo", "--bogus")]
    [InlineData("demo", "--bookings", "0")]
    [InlineData("no-such-command")]
    public async Task Cli_BadArguments_ExitWith2AndOneClearError(params string[] args)
    {
        var (exit, output, error) = await RunAsync(args);

        Assert.Equal(2, exit);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, output);
    }
}
