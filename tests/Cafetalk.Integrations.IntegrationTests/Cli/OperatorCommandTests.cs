using System.Text.Json;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Cli;

/// <summary>ingest → drain → replay-poison against Azurite, through the CLI as an operator types it.</summary>
public sealed class OperatorCommandTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private static readonly DateTimeOffset Lesson = TimeProvider.System.GetUtcNow().AddDays(5);

    private Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        // Intake checks the erasure tombstones, keyed by Erasure:MemberKey, which an operator's environment supplies.
        Environment.SetEnvironmentVariable("Erasure__MemberKey", fixture.Sandbox.Keys.ErasureMemberKey);
        Environment.SetEnvironmentVariable("Erasure__PrivacyOfficePublicKey", fixture.Sandbox.Keys.PrivacyOffice.PublicKey);
        return CliRun.RunAsync([.. args, "--connection-string", fixture.Sandbox.StorageConnectionString]);
    }

    private static async Task<string> WriteEventsAsync(params string[] lines)
    {
        var file = Path.GetTempFileName();
        await File.WriteAllLinesAsync(file, lines);
        return file;
    }

    [Fact]
    public async Task IngestThenDrain_ProcessesEveryLineAndReportsRejections()
    {
        await fixture.Storage.EnsureProvisionedAsync();
        await fixture.Storage.Queue(QueueNames.BookingEvents).ClearMessagesAsync();
        var file = await WriteEventsAsync(
            // Its own student: another test of this class erases the sample's default student, whose events are then dropped.
            SampleEvents.Booking(EventTypes.BookingConfirmed, "bk_ops_1", 1, Lesson, lecturerId: "lec_ops", studentId: "stu_ops_ingest"),
            SampleEvents.Booking(EventTypes.BookingConfirmed, "bk_ops_1", 1, Lesson, lecturerId: "lec_ops", studentId: "stu_ops_ingest"),
            "not json at all");

        var ingest = await RunAsync("ingest", "--file", file);
        var drain = await RunAsync("drain", "--json");

        Assert.Equal(0, ingest.Exit);
        Assert.Contains("published 3 event(s)", ingest.Out, StringComparison.Ordinal);
        Assert.Equal(0, drain.Exit);
        var events = JsonDocument.Parse(drain.Out).RootElement.GetProperty("events");
        Assert.Equal(3, events.GetProperty("received").GetInt32());
        Assert.Equal(2, events.GetProperty("processed").GetInt32());
        Assert.Equal("not-json", events.GetProperty("rejections")[0].GetProperty("reason").GetString());
        var row = await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>("lec_ops", "bk_ops_1");
        Assert.Equal(1L, row.Value.GetInt64("Version"));
    }

    [Fact]
    public async Task ReplayPoison_DryRunChangesNothing_ThenReplaysOnlyWhatNowPasses()
    {
        var poison = fixture.Storage.Queue(QueueNames.BookingEventsPoison);
        await fixture.Storage.EnsureProvisionedAsync();
        await poison.ClearMessagesAsync();
        var valid = SampleEvents.Booking(EventTypes.BookingConfirmed, "bk_replay_1", 1, Lesson, lecturerId: "lec_replay");
        // As if refused by an older release that did not know this event was valid.
        await poison.SendMessageAsync(new PoisonEnvelope("unknown-type", "old release", "corr-valid", QueueNames.BookingEvents, Lesson, valid, null).ToJson());
        await poison.SendMessageAsync(new PoisonEnvelope("not-json", "message is not valid JSON", "corr-bad", QueueNames.BookingEvents, Lesson, "still { not json", null).ToJson());

        var dry = await RunAsync("replay-poison", "--dry-run", "--json");
        var afterDry = (await poison.PeekMessagesAsync(32)).Value.Length;
        var replay = await RunAsync("replay-poison", "--json");

        Assert.Equal(0, dry.Exit);
        Assert.Equal(2, afterDry);
        var dryItems = dry.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(dryItems, i => Assert.False(i.GetProperty("replayed").GetBoolean()));
        var replayed = replay.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(i => i.GetProperty("correlationId").GetString()!, i => i.GetProperty("replayed").GetBoolean());
        Assert.Equal(new Dictionary<string, bool> { ["corr-valid"] = true, ["corr-bad"] = false }, replayed);
        var left = Assert.Single((await poison.PeekMessagesAsync(32)).Value);
        Assert.Equal("corr-bad", PoisonEnvelope.TryParse(left.Body.ToString())!.CorrelationId);
        var requeued = (await fixture.Storage.Queue(QueueNames.BookingEvents).PeekMessagesAsync(32)).Value.Select(m => m.Body.ToString());
        Assert.Contains(valid, requeued);
    }

    [Fact]
    public async Task OperatorCommand_WithoutAnyStorage_ExitsWith2()
    {
        var previous = Environment.GetEnvironmentVariable(StorageAccount.SettingName);
        Environment.SetEnvironmentVariable(StorageAccount.SettingName, null);
        try
        {
            var (exit, _, stderr) = await CliRun.RunAsync("drain");

            Assert.Equal(2, exit);
            Assert.Contains("No storage account", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(StorageAccount.SettingName, previous);
        }
    }

    [Theory]
    [InlineData("replay-poison", "--queue", "booking-events")]
    [InlineData("replay-poison", "--max", "0")]
    [InlineData("ingest")]
    [InlineData("drain", "--account", "Not_An_Account")]
    public async Task OperatorCommand_BadArguments_ExitWith2(params string[] args)
    {
        var (exit, _, error) = await RunAsync(args);

        Assert.Equal(2, exit);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
    }
}

/// <summary><c>sync</c> against the Sandbox: the nightly pass repairs a booking whose converge request was lost.</summary>
public sealed class SyncCommandTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    /// <summary>Runs <c>sync</c> with the Sandbox's settings in the environment, as an operator's shell would hold them.</summary>
    private async Task<(int Exit, string Out, string Err)> SyncAsync()
    {
        var settings = fixture.Sandbox.Settings().Where(s => s.Key != "AzureWebJobsStorage").ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);
        var saved = settings.Keys.ToDictionary(key => key, Environment.GetEnvironmentVariable);
        foreach (var (key, value) in settings)
        {
            Environment.SetEnvironmentVariable(key, value);
        }

        try
        {
            return await CliRun.RunAsync("sync", "--connection-string", fixture.Sandbox.StorageConnectionString);
        }
        finally
        {
            foreach (var (key, value) in saved)
            {
                Environment.SetEnvironmentVariable(key, value);
            }
        }
    }

    private async Task LoseTheConvergeRequestOfANewBookingAsync(string bookingId)
    {
        await using var services = fixture.CreateServices();
        var startsAt = TimeProvider.System.GetUtcNow().AddDays(3);
        await services.GetRequiredService<BookingEventIntake>().ProcessAsync(SampleEvents.Booking(EventTypes.BookingConfirmed, bookingId, 1, startsAt, lecturerId: "lec_sync"), null);
        await fixture.Storage.Queue(QueueNames.ZoomConverge).ClearMessagesAsync();
    }

    [Fact]
    public async Task Sync_ABookingWhoseConvergeRequestWasLost_GetsItsMeeting_AndASecondSyncSendsNothing()
    {
        await LoseTheConvergeRequestOfANewBookingAsync("bk_sync_1");
        var createsBefore = fixture.Sandbox.Zoom.Requests.Count(r => r.IsCreate);

        var (firstExit, firstOut, _) = await SyncAsync();
        var createsAfterFirst = fixture.Sandbox.Zoom.Requests.Count(r => r.IsCreate);
        var (secondExit, secondOut, _) = await SyncAsync();

        Assert.Equal((0, 0), (firstExit, secondExit));
        Assert.Equal(1, JsonDocument.Parse(firstOut).RootElement.GetProperty("zoomRepaired").GetInt32());
        Assert.Equal(createsBefore + 1, createsAfterFirst);
        Assert.Equal(0, JsonDocument.Parse(secondOut).RootElement.GetProperty("zoomRepaired").GetInt32());
        Assert.Equal(createsAfterFirst, fixture.Sandbox.Zoom.Requests.Count(r => r.IsCreate));
    }

    [Fact]
    public async Task Sync_ZoomFailsForABooking_StillRunsEveryJob_PrintsTheReport_AndExitsOneWithOneErrorLine()
    {
        await LoseTheConvergeRequestOfANewBookingAsync("bk_sync_fails");
        fixture.Sandbox.Zoom.FailNext(1); // the create: a 500 on a create is not retried blind

        var (exit, stdout, stderr) = await SyncAsync();

        Assert.Equal(1, exit);
        var report = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(1, report.GetProperty("zoomFailed").GetInt32());
        Assert.Equal(0, report.GetProperty("calendarFailed").GetInt32());
        Assert.True(report.TryGetProperty("inDoubtDisclosuresClosed", out _)); // the jobs after the Zoom pass ran
        var error = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: 1 Zoom repair(s) and 0 lecturer calendar sync(s) failed", error, StringComparison.Ordinal);
    }
}
