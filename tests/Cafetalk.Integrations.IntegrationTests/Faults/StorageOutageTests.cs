using System.Diagnostics;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Operations;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Cafetalk.Integrations.IntegrationTests.Faults;

/// <summary>
/// Azurite (on disk) stopped in the middle of a day, with messages in flight and calls half done, and started again on
/// the same ports after longer than the storage SDK's own retries last: the host's retries bring every booking to
/// converge. Anything the outage pushed into a poison queue goes back with the operator's <c>replay-poison</c>.
/// </summary>
public sealed class StorageOutageTests(ITestOutputHelper output)
{
    /// <summary>Longer than the storage SDK's retries of the worker (2, from 200 ms), so calls really fail.</summary>
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(8);

    private const int HostLoops = 3;

    [Fact]
    public async Task Day_AzuriteRestartedMidRun_EveryBookingConvergesAfterRetries()
    {
        var clock = Stopwatch.StartNew();
        await using var harness = await FaultHarness.StartAsync(azuriteOnDisk: true);
        foreach (var lecturer in FaultDay.ConnectedLecturers)
        {
            await harness.ConnectCalendarAsync(lecturer);
        }

        var day = new FaultDay(24, TimeProvider.System.GetUtcNow());
        await harness.PublishAsync(day.Deliveries(1, seed: null));
        var failures = new StorageFailureCounter();
        // The SDK's own retries (5, from 0.8 s) would ride out 25 s of outage: two short ones make 8 s felt.
        await using var worker = harness.NewWorker(storage: options =>
        {
            options.AddPolicy(failures, Azure.Core.HttpPipelinePosition.PerCall);
            (options.Retry.MaxRetries, options.Retry.Delay) = (2, TimeSpan.FromMilliseconds(200));
        });
        // Three host loops at once, as an instance runs several messages in parallel: more calls are in flight when it stops.
        var hosts = Enumerable.Range(0, HostLoops).Select(_ => Task.Run(() => harness.SettleAsync(worker, TimeSpan.FromSeconds(150), tolerateStorageErrors: true))).ToList();
        var host = Task.WhenAll(hosts);

        // Pull the plug once the day is well under way: some meetings made, most of the work still queued.
        var underWay = Stopwatch.StartNew();
        while (harness.Sandbox.Zoom.Meetings.Count < 6 && !host.IsCompleted && underWay.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(20);
        }

        var meetingsAtStop = harness.Sandbox.Zoom.Meetings.Count;
        await harness.Sandbox.Azurite.StopAsync();
        await Task.Delay(Outage);
        await harness.Sandbox.Azurite.StartAgainAsync();
        var runs = await host;
        var run = new HostRun { StorageErrors = runs.Sum(r => r.StorageErrors), IntakeFailures = runs.Sum(r => r.IntakeFailures) };
        run.ErrorTypes.UnionWith(runs.SelectMany(r => r.ErrorTypes));

        var replayed = await ReplayPoisonAsync(harness);
        await harness.SettleAsync();
        await harness.SendRecordingsCompletedAsync(day.Bookings.Where(b => b.Confirmed).Take(6));
        await harness.SettleAsync();
        var nightly = await harness.Services.GetRequiredService<NightlyJobs>().RunAsync();
        await harness.SettleAsync();
        var report = await FaultInvariants.CheckAsync(harness, day.Bookings);
        var queues = await harness.NonEmptyQueuesAsync();

        output.WriteLine($"{day.Bookings.Count} bookings, {day.EventCount} events; storage stopped for {Outage.TotalSeconds:0} s with {meetingsAtStop} meetings made; " +
            $"{failures.Failed} storage call(s) failed after the SDK's retries, {run.StorageErrors} of them stopped a host poll ({string.Join(", ", run.ErrorTypes)}), {run.IntakeFailures} failed an intake; {replayed} poisoned message(s) replayed; " +
            $"nightly closed {nightly.InDoubtDisclosuresClosed} in-doubt intent(s), repaired {nightly.ZoomRepaired} meeting(s)");
        output.WriteLine(report.Summary);
        output.WriteLine($"queues left: {(queues.Count == 0 ? "none" : string.Join(", ", queues))}; {clock.Elapsed.TotalSeconds:0.0} s");

        Assert.True(meetingsAtStop < day.Bookings.Count(b => b.Confirmed), "the day had finished before the outage");
        Assert.True(failures.Failed > 0, "no storage call failed: the outage was not felt");
        Assert.True(report.Problems.Count == 0, string.Join(Environment.NewLine, report.Problems));
        Assert.Empty(queues);
    }

    /// <summary>The operator's path after an outage: <c>replay-poison</c> on every poison queue (only messages that now pass).</summary>
    private static async Task<int> ReplayPoisonAsync(FaultHarness harness)
    {
        var replayer = harness.Services.GetRequiredService<PoisonReplayer>();
        var replayed = 0;
        foreach (var (queue, _) in (await harness.NonEmptyQueuesAsync()).Where(q => q.Key.EndsWith("-poison", StringComparison.Ordinal)))
        {
            replayed += (await replayer.ReplayAsync(queue, dryRun: false, includeStillInvalid: false, max: 1000)).Count(i => i.Replayed);
        }

        return replayed;
    }
}

/// <summary>Counts storage calls that failed for good (outside the SDK's own retries).</summary>
internal sealed class StorageFailureCounter : Azure.Core.Pipeline.HttpPipelinePolicy
{
    private int _failed;

    public int Failed => Volatile.Read(ref _failed);

    public override void Process(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
    {
        try
        {
            ProcessNext(message, pipeline);
        }
        catch
        {
            Interlocked.Increment(ref _failed);
            throw;
        }
    }

    public override async ValueTask ProcessAsync(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
    {
        try
        {
            await ProcessNextAsync(message, pipeline);
        }
        catch
        {
            Interlocked.Increment(ref _failed);
            throw;
        }
    }
}
