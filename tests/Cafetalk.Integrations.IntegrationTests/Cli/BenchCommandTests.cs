using System.Text.Json;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;

namespace Cafetalk.Integrations.IntegrationTests.Cli;

/// <summary>
/// <c>bench</c> at a small size: the counts it reports are the pipeline's cost at the providers' minimum, so the
/// test asserts those counts (never a time: this machine's speed is not the product's).
/// </summary>
public sealed class BenchCommandTests
{
    private static Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) => CliRun.RunAsync(args);

    [Fact]
    public async Task Bench_Pipeline_EachLifecycleStepCostsOneZoomAndOneGoogleRequest_NoDuplicateNoLeak_LedgerVerified()
    {
        var (exit, output, _) = await RunAsync("bench", "--scenario", "pipeline", "--bookings", "24", "--lecturers", "3", "--parallelism", "8", "--json");

        Assert.Equal(0, exit);
        var pipeline = JsonDocument.Parse(output).RootElement.GetProperty("pipeline");
        var phases = pipeline.GetProperty("phases").EnumerateArray().ToList();
        Assert.Equal(["confirm", "reschedule", "cancel"], phases.Select(p => p.GetProperty("phase").GetString()));
        Assert.All(phases, phase =>
        {
            Assert.Equal(24, phase.GetProperty("events").GetInt32());
            Assert.Equal(1.0, phase.GetProperty("zoomRequestsPerBooking").GetDouble());
            Assert.Equal(1.0, phase.GetProperty("googleRequestsPerBooking").GetDouble());
            Assert.True(phase.GetProperty("tableTransactionsPerEvent").GetDouble() > 0, "no table transaction was counted");
            Assert.True(phase.GetProperty("queueOperationsPerEvent").GetDouble() >= 2, "an event costs at least its receive and delete");
            Assert.InRange(phase.GetProperty("fractionOfStorageBound").GetDouble(), 0.01, 10);
            Assert.InRange(phase.GetProperty("fractionOfStorageBoundWithBacklog").GetDouble(), 0.01, 10);
            // Azurite's CPU seconds per second of the phase: it served the phase, and one process cannot use more than the machine.
            Assert.InRange(phase.GetProperty("azuriteBusy").GetDouble(), 0.01, Environment.ProcessorCount);
            // The outbox's share: one send per event, its marker emptied by the calendar converger's fact write (no write of
            // its own); the site hears each booking once, never twice.
            var byKind = phase.GetProperty("storageRequestsPerEventByKind");
            Assert.Equal(1.0, byKind.GetProperty("POST site-notifications/messages").GetDouble());
            Assert.False(byKind.TryGetProperty("PATCH Bookings(key) outbox clear", out _), "a marker was cleared by a write of its own");
            // Each converger reads and writes the row once; intake's tombstone query only for a row it creates.
            Assert.Equal(3.0, byKind.GetProperty("GET Bookings(key)").GetDouble());
            Assert.Equal(phase.GetProperty("phase").GetString() == "confirm", byKind.TryGetProperty("GET Subjects()", out _));
            var heard = phase.GetProperty("site").GetProperty("notificationsPerEvent").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
            var told = phase.GetProperty("phase").GetString() == "cancel" ? "com.cafetalk.meeting.removed" : "com.cafetalk.meeting.ready";
            Assert.Equal(new Dictionary<string, double> { [told] = 1.0 }, heard);
            Assert.Equal(0, phase.GetProperty("site").GetProperty("redelivered").GetInt32());
        });
        // One Zoom token for the whole run; Google's tokens came with the connect flow.
        Assert.Equal(1, phases.Sum(p => p.GetProperty("zoomTokenFetches").GetInt32()));
        Assert.Equal(0, phases.Sum(p => p.GetProperty("googleTokenFetches").GetInt32()));
        Assert.Equal(0, pipeline.GetProperty("duplicateMeetings").GetInt32());
        Assert.Equal(0, pipeline.GetProperty("duplicateEvents").GetInt32());
        Assert.Equal(0, pipeline.GetProperty("fieldsOutsideAllowlist").GetInt32());
        Assert.True(pipeline.GetProperty("ledgerVerified").GetBoolean());
        var baseline = pipeline.GetProperty("baseline");
        Assert.True(baseline.GetProperty("tableOperationsPerSecond").GetDouble() > 0);
        Assert.True(baseline.GetProperty("queueOperationsPerSecond").GetDouble() > 0);
        Assert.Equal(24, baseline.GetProperty("backlog").GetInt32());
        Assert.True(baseline.GetProperty("queueOperationsPerSecondWithBacklog").GetDouble() > 0);
    }

    [Fact]
    public async Task Bench_OutsideChanges_EveryHandEditIsPutBack_ByPushOrTheNightlyPass_AndAQuietLecturerCostsOneRequestANight()
    {
        var (exit, output, _) = await RunAsync("bench", "--scenario", "outside-changes", "--outside-edits", "10", "--lecturers", "3", "--parallelism", "8", "--json");

        Assert.Equal(0, exit);
        var figures = JsonDocument.Parse(output).RootElement.GetProperty("outsideChanges");
        var runs = figures.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal([0.0, 0.1], runs.Select(r => r.GetProperty("dropRate").GetDouble()));
        // With every notification delivered, push alone puts each edit back.
        Assert.Equal((10, 0), (runs[0].GetProperty("restoredByPush").GetInt32(), runs[0].GetProperty("leftForNightly").GetInt32()));
        Assert.All(runs, run =>
        {
            Assert.Equal(10, run.GetProperty("restoredByPush").GetInt32() + run.GetProperty("restoredByNightly").GetInt32());
            Assert.Equal(run.GetProperty("restoredByPush").GetInt32(), run.GetProperty("eventWrites").GetInt32());
            Assert.InRange(run.GetProperty("googleRequestsPerNotification").GetDouble(), 0.5, 2.0);
            Assert.True(run.GetProperty("p95Seconds").GetDouble() >= run.GetProperty("p50Seconds").GetDouble());
        });
        Assert.Equal((1, 1), (figures.GetProperty("nightlyRequestsPerQuietLecturerMin").GetInt32(), figures.GetProperty("nightlyRequestsPerQuietLecturerMax").GetInt32()));
    }

    [Fact]
    public async Task Bench_Recording_StreamsTheFileIntactInTheBenchAndInAWorkerProcess_ThenZoomCopyDeleted()
    {
        var (exit, output, _) = await RunAsync("bench", "--scenario", "recording", "--recording-mb", "40", "--json");

        Assert.Equal(0, exit);
        var recording = JsonDocument.Parse(output).RootElement.GetProperty("recording");
        Assert.Equal(40L * 1024 * 1024, recording.GetProperty("bytes").GetInt64());
        var bench = recording.GetProperty("benchProcess");
        var worker = recording.GetProperty("workerProcess");
        foreach (var run in new[] { bench, worker })
        {
            Assert.Equal(40L * 1024 * 1024, run.GetProperty("vimeoReceivedBytes").GetInt64());
            Assert.True(run.GetProperty("contentIdentical").GetBoolean());
            Assert.True(run.GetProperty("zoomCopyDeleted").GetBoolean());
            Assert.Equal("complete", run.GetProperty("vimeoUploadStatus").GetString());
            // 40 MiB in 8 MiB chunks: one HEAD, five PATCHes; Zoom: delete, redirect, file.
            Assert.Equal((6, 1, 2), (run.GetProperty("vimeoUploadRequests").GetInt32(), run.GetProperty("zoomApiRequests").GetInt32(), run.GetProperty("zoomDownloadRequests").GetInt32()));
        }

        // Vimeo: create, two state look-ups, embed domain, move; the worker, a fresh process, also checks its token's scopes and fetches a Zoom token.
        Assert.Equal((5, 0), (bench.GetProperty("vimeoApiRequests").GetInt32(), bench.GetProperty("zoomTokenFetches").GetInt32()));
        Assert.Equal((6, 1), (worker.GetProperty("vimeoApiRequests").GetInt32(), worker.GetProperty("zoomTokenFetches").GetInt32()));
        // The worker's memory was read from its own /proc entry: the kernel's high-water mark is at least any sampled resident size.
        Assert.True(worker.GetProperty("peakResidentSampledBytes").GetInt64() > 0, "the worker process's resident memory was never read");
        Assert.True(worker.GetProperty("peakResidentBytes").GetInt64() >= worker.GetProperty("peakResidentSampledBytes").GetInt64());
        Assert.Equal(JsonValueKind.Null, worker.GetProperty("residentBeforeBytes").ValueKind);
        // The file never sits in memory: a buffered 40 MiB file would grow the bench process's working set by at least that much.
        Assert.InRange(bench.GetProperty("peakResidentSampledBytes").GetInt64() - bench.GetProperty("residentBeforeBytes").GetInt64(), long.MinValue, 32L * 1024 * 1024);
    }

    [Theory]
    [InlineData("--scenario", "everything")]
    [InlineData("--bookings", "0")]
    [InlineData("--parallelism", "1000")]
    public async Task Bench_BadArguments_OneErrorLineAndExitCode2(string option, string value)
    {
        var (exit, output, error) = await RunAsync("bench", option, value);

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.StartsWith($"error: {option}", error, StringComparison.Ordinal);
    }
}
