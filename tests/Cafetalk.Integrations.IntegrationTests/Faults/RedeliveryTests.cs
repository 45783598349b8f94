using System.Diagnostics;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Operations;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Cafetalk.Integrations.IntegrationTests.Faults;

/// <summary>
/// The queue delivers every event of a day three times, in a seeded shuffle (so a cancel or a reschedule often
/// arrives before its confirm, and again after it): the day converges to the newest version of each booking, with
/// one meeting, one event and one video at most per booking.
/// </summary>
public sealed class RedeliveryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Day_EveryEventDeliveredThreeTimesInShuffledOrder_ConvergesToTheNewestVersionWithoutDuplicates()
    {
        var seed = FaultSeed.Value;
        var clock = Stopwatch.StartNew();
        await using var harness = await FaultHarness.StartAsync();
        foreach (var lecturer in FaultDay.ConnectedLecturers)
        {
            await harness.ConnectCalendarAsync(lecturer);
        }

        var day = new FaultDay(24, TimeProvider.System.GetUtcNow());
        var deliveries = day.Deliveries(3, seed);
        await harness.PublishAsync(deliveries);
        var morning = await harness.SettleAsync();
        // Zoom delivers its webhooks at least once too: each recording.completed arrives three times.
        var recorded = day.Bookings.Where(b => b.Confirmed).Take(8).ToList();
        for (var delivery = 0; delivery < 3; delivery++)
        {
            await harness.SendRecordingsCompletedAsync(recorded);
        }

        var afternoon = await harness.SettleAsync();
        var nightly = await harness.Services.GetRequiredService<NightlyJobs>().RunAsync();
        await harness.SettleAsync();
        var report = await FaultInvariants.CheckAsync(harness, day.Bookings);
        var queues = await harness.NonEmptyQueuesAsync();

        output.WriteLine($"{FaultSeed.Replay}; {day.Bookings.Count} bookings, {day.EventCount} events delivered {deliveries.Count} times; {recorded.Count} recordings x3; " +
            $"host invocations {morning.Invocations + afternoon.Invocations}; nightly repaired {nightly.ZoomRepaired}");
        output.WriteLine(report.Summary);
        output.WriteLine($"queues left: {(queues.Count == 0 ? "none" : string.Join(", ", queues))}; {clock.Elapsed.TotalSeconds:0.0} s");

        Assert.True(report.Problems.Count == 0, $"{FaultSeed.Replay}: {string.Join(Environment.NewLine, report.Problems)}");
        Assert.Empty(queues);
        Assert.Empty(await harness.SiteNotificationsOutsideTheContractAsync());
        Assert.Equal(0, nightly.ZoomRepaired);
        // Some event of the shuffle overtook an older one of the same booking, so the ordering was really tested.
        Assert.True(OvertakenCount(day, deliveries) > 0);
    }

    /// <summary>How many bookings had a newer event delivered before the first delivery of an older one.</summary>
    private static int OvertakenCount(FaultDay day, List<string> deliveries) =>
        day.BookingEvents.Count(events => events.Count > 1 && events.Zip(events.Skip(1)).Any(pair => deliveries.IndexOf(pair.Second) < deliveries.IndexOf(pair.First)));
}
