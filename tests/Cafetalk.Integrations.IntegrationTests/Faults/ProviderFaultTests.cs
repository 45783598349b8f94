using System.Diagnostics;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Operations;
using Cafetalk.Integrations.Sandbox;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Cafetalk.Integrations.IntegrationTests.Faults;

/// <summary>
/// A day of bookings while every provider answers a seeded 20% of its requests with 500, 503, 429, a hang past the
/// client's timeout, or does the work and then fails: once the faults stop and the nightly jobs have run, everything
/// has converged, nothing is duplicated and every disclosure is on the ledger.
/// </summary>
public sealed class ProviderFaultTests(ITestOutputHelper output)
{
    private const double FaultRate = 0.2;

    private static readonly string[] Subscribers = [.. Enumerable.Range(1, 6).Select(i => $"stu_fault_{i}")];

    private static string Email(string memberId) => memberId.Replace('_', '.') + "@example.jp";

    [Fact]
    public async Task Day_ProvidersFailTwentyPercentOfRequests_ConvergesWithoutDuplicatesAndEveryDisclosureOnTheLedger()
    {
        var seed = FaultSeed.Value;
        var clock = Stopwatch.StartNew();
        await using var harness = await FaultHarness.StartAsync();
        foreach (var lecturer in FaultDay.ConnectedLecturers)
        {
            await harness.ConnectCalendarAsync(lecturer);
        }

        foreach (var member in Subscribers)
        {
            // The suite's log scan looks for each of these in every line any test made the code write.
            LogCapture.Plant("subscriber-email", Email(member));
        }

        await harness.PublishAsync(Subscribers.Select(m => SampleEvents.NewsletterSubscribed(m, Email(m))));
        await harness.SettleAsync();

        var day = new FaultDay(36, TimeProvider.System.GetUtcNow());
        harness.EnableFaults(seed, FaultRate);
        var morning = await harness.SettleAsync(await PublishedAsync(harness, day.Deliveries(1, seed: null)));
        await harness.SendRecordingsCompletedAsync(day.Bookings.Where(b => b.Confirmed).Take(12));
        // Five members unsubscribe, two of them change their mind: suppressions added and lifted at the mail service.
        foreach (var member in Subscribers.Take(5))
        {
            await harness.UnsubscribeAsync(member);
        }

        var afternoon = await harness.SettleAsync();
        foreach (var member in Subscribers.Skip(3).Take(2))
        {
            await harness.ResubscribeAsync(member);
        }

        var evening = await harness.SettleAsync();
        harness.DisableFaults();

        var nightly = await harness.Services.GetRequiredService<NightlyJobs>().RunAsync();
        await harness.SettleAsync();
        var report = await FaultInvariants.CheckAsync(harness, day.Bookings);
        var queues = await harness.NonEmptyQueuesAsync();

        foreach (var (provider, plan) in harness.FaultPlans)
        {
            output.WriteLine($"{provider}: {plan.FaultedCount} of {plan.EligibleCount} requests faulted ({string.Join(", ", plan.Counts.OrderBy(c => c.Key).Select(c => $"{c.Key} {c.Value}"))})");
        }

        output.WriteLine($"{FaultSeed.Replay}; {day.Bookings.Count} bookings, {day.EventCount} events; host invocations {morning.Invocations + afternoon.Invocations + evening.Invocations}; nightly repaired {nightly.ZoomRepaired} Zoom meeting(s)");
        output.WriteLine(report.Summary);
        output.WriteLine($"queues left: {(queues.Count == 0 ? "none" : string.Join(", ", queues))}; {clock.Elapsed.TotalSeconds:0.0} s");

        Assert.True(report.Problems.Count == 0, $"{FaultSeed.Replay}: {string.Join(Environment.NewLine, report.Problems)}");
        Assert.Empty(queues);
        Assert.Empty(await harness.SiteNotificationsOutsideTheContractAsync());
        Assert.Equal(Subscribers.Take(3).Select(Email).Order(), harness.Sandbox.Mail.Suppressed(SandboxEnvironment.NewsletterGroupId).Order());
        // The faults really happened, of every kind, at every provider the day used.
        var faulted = harness.FaultPlans.Values.SelectMany(p => p.Counts).GroupBy(c => c.Key).ToDictionary(g => g.Key, g => g.Sum(c => c.Value));
        Assert.All(Enum.GetValues<SimulatedFault>().Where(f => f != SimulatedFault.None), kind => Assert.True(faulted.GetValueOrDefault(kind) > 0, $"{FaultSeed.Replay}: no {kind} was injected"));
        Assert.All(new[] { "zoom", "google", "vimeo" }, provider => Assert.True(harness.FaultPlans[provider].FaultedCount > 0, $"{provider} saw no fault"));
        Assert.True(report.PersonalRequests > 100, $"only {report.PersonalRequests} personal-data requests were checked");
    }

    /// <summary>Publishes and returns the worker to settle with (the served one).</summary>
    private static async Task<IServiceProvider> PublishedAsync(FaultHarness harness, IEnumerable<string> messages)
    {
        await harness.PublishAsync(messages);
        return harness.Services;
    }
}
