using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.IntegrationTests.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Zoom;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace Cafetalk.Integrations.IntegrationTests.Zoom;

/// <summary>
/// Zoom's per-second budget shared through Azurite by several "instances" (separate service providers, as separate
/// Functions instances would be): what reaches the simulator per second, how much of the limit is used, what it
/// costs in table requests, and what happens when the table is unreachable.
/// </summary>
public sealed class ZoomRateBudgetTests(SandboxFixture fixture, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private const int Limit = 20;
    private static readonly DateTimeOffset Tomorrow = new DateTimeOffset(TimeProvider.System.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero).AddDays(2).AddHours(10);
    private readonly List<ServiceProvider> _instances = [];

    private ZoomSimulator Zoom => fixture.Sandbox.Zoom;

    public async Task InitializeAsync()
    {
        await fixture.Storage.EnsureProvisionedAsync();
        Zoom.ClearRequests();
        Zoom.RequestsPerSecond = Limit;
    }

    public async Task DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            await instance.DisposeAsync();
        }
    }

    /// <summary>One more instance: its own service provider, its own budget and caches, the same storage account.</summary>
    private ServiceProvider Instance(StorageAccount storage)
    {
        var services = fixture.CreateServices(configure: s =>
        {
            s.Replace(ServiceDescriptor.Singleton(storage));
            s.Configure<ZoomOptions>(o =>
            {
                o.RetryBaseDelay = TimeSpan.FromMilliseconds(100);
                o.RetryMaxDelay = TimeSpan.FromSeconds(2);
                o.DailyCreateUpdateLimitPerHost = 1_000;
            });
        });
        _instances.Add(services);
        return services;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task Budget_InstancesHammeringForFourSeconds_StayUnderTheLimitInEverySecond_AndKeepSending(int instanceCount)
    {
        var (storage, tableRequests) = TableRequestCounter.Attach(fixture.Sandbox.StorageConnectionString);
        var budgets = Enumerable.Range(0, instanceCount).Select(_ => Instance(storage).GetRequiredService<ZoomRateBudget>()).ToList();
        // Warm up for a second: each instance provisions, reaches the table and gets its code compiled before the clock starts.
        await HammerAsync(budgets, TimeSpan.FromSeconds(1));
        // The earlier test classes' garbage is collected now, not as a pause in the middle of the measurement.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        // The two floors below catch a budget serialised on table round trips, which misses them on every run; a loaded
        // machine's slow table can make one run miss them too, so a run that misses is measured once more (both printed).
        // The limit itself must hold on every run.
        string? missed = null;
        for (var run = 1; run <= 2; run++)
        {
            tableRequests.Reset();
            var forfeitedBefore = budgets.Sum(b => b.ForfeitedSendTimes);

            var (grants, sendAts) = await HammerAsync(budgets, TimeSpan.FromSeconds(4));

            var late = grants.Zip(sendAts, (g, a) => (g - a).TotalMilliseconds).Order().ToList();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"run {run}: send times: max {MaxInAnySecond([.. sendAts.Order()])} in any 1 s window; grants late by p50 {late[late.Count / 2]:F1} ms, p90 {late[late.Count * 9 / 10]:F1} ms, max {late[^1]:F1} ms; {budgets.Sum(b => b.ForfeitedSendTimes) - forfeitedBefore} send times forfeited"));

            var sorted = grants.Order().ToList();
            var achieved = (sorted.Count - 1) / (sorted[^1] - sorted[0]).TotalSeconds;
            var perRequest = tableRequests.Requests / (double)sorted.Count;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"run {run}: {instanceCount} instance(s): {sorted.Count} grants in {(sorted[^1] - sorted[0]).TotalSeconds:F2} s = {achieved:F2}/s ({achieved / Limit:P1} of {Limit}/s); " +
                $"max {MaxInAnySecond(sorted)} in any 1 s window, max {MaxInAnyUtcSecond(sorted)} in a fixed UTC second; " +
                $"{tableRequests.Requests} table requests = {perRequest:F3} per request"));

            Assert.True(MaxInAnySecond(sorted) <= Limit, $"{MaxInAnySecond(sorted)} grants in one second");
            Assert.True(MaxInAnyUtcSecond(sorted) <= Limit);
            // How much of the limit is used is machine-dependent and measured by `bench --scenario zoom-rate` (94.5 %).
            // Alone: one update per block of five, plus a few first reads that do not grow with the requests (so a loaded
            // machine's fewer grants must not read as a costlier budget). Instances taking turns: a read before each update, and lost races.
            missed = achieved < 0.5 * Limit ? $"only {achieved:F2} requests/s"
                : !(instanceCount == 1 ? tableRequests.Requests <= Math.Ceiling(sorted.Count / 5.0) + 8 : perRequest <= 1.0)
                    ? $"{tableRequests.Requests} table requests for {sorted.Count} Zoom requests ({perRequest:F3} each)"
                    : null;
            if (missed is null)
            {
                break;
            }
        }

        Assert.True(missed is null, missed);
        Assert.All(budgets, b => Assert.False(b.IsPacingLocally));
    }

    [Fact]
    public async Task Converge_FourInstancesAgainstTwentyPerSecond_EveryBookingOnceAndAtMostOnePercentThrottled()
    {
        const int bookings = 120;
        var (storage, _) = TableRequestCounter.Attach(fixture.Sandbox.StorageConnectionString);
        var instances = Enumerable.Range(0, 4).Select(_ => Instance(storage)).ToList();
        var work = new List<(string Lecturer, string Booking)>();
        for (var i = 0; i < bookings; i++)
        {
            // 12 lecturers on their own Zoom hosts, 10 lessons each, each with its own student (one chain per member serialises its appends, see docs/scaling.md).
            var (lecturer, booking) = ($"lec_budget_{i % 12:D2}", $"bk_budget_{i:D3}");
            if (i < 12)
            {
                await instances[0].GetRequiredService<ZoomHostDirectory>().AssignAsync(lecturer, $"zoom-host-{i:D2}");
            }

            var outcome = await instances[0].GetRequiredService<BookingEventIntake>()
                .ProcessAsync(SampleEvents.Booking(EventTypes.BookingConfirmed, booking, 1, Tomorrow.AddMinutes(i), lecturerId: lecturer, studentId: $"stu_budget_{i:D3}"), null);
            Assert.Equal(IntakeDisposition.Applied, outcome.Disposition);
            work.Add((lecturer, booking));
        }

        Zoom.ClearRequests();
        var throttledBefore = Zoom.ThrottledCount;
        // Each instance takes a quarter of the queue, 16 messages at a time like the host's batch.
        await Task.WhenAll(instances.Select((instance, n) => Parallel.ForEachAsync(
            work.Where((_, i) => i % 4 == n),
            new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (item, cancellationToken) =>
            {
                var result = await instance.GetRequiredService<MeetingConverger>().ConvergeAsync(item.Lecturer, item.Booking, cancellationToken: cancellationToken);
                Assert.Equal(MeetingConvergence.Created, result.Outcome);
            })));

        var api = Zoom.Requests.Where(r => r.IsApi).ToList();
        var arrivals = api.Select(r => r.ReceivedAtUtc).Order().ToList();
        var throttled = Zoom.ThrottledCount - throttledBefore;
        var seconds = (arrivals[^1] - arrivals[0]).TotalSeconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{bookings} bookings on 4 instances: {api.Count} Zoom API requests in {seconds:F2} s = {(api.Count - 1) / seconds:F2}/s; " +
            $"{throttled} answered 429 ({throttled / (double)api.Count:P2}); max {MaxInAnySecond(arrivals)} in any 1 s window, max {MaxInAnyUtcSecond(arrivals)} in a fixed UTC second"));

        var references = instances[0].GetRequiredService<ZoomBookingReference>();
        var meetings = Zoom.Meetings.ToLookup(m => m.Body["agenda"]?.GetValue<string>());
        Assert.All(work, item => Assert.Single(meetings[references.For(item.Booking)]));
        Assert.Equal(bookings, api.Count(r => r.IsCreate && r.Status == 201));
        // ~120 requests on a shared CI machine: transit jitter after the budget's send time can put a 21st into one
        // simulator second. The 1 % target is measured on 600 bookings by 'bench --scenario zoom-rate' (docs/performance.md).
        Assert.True(throttled <= api.Count / 20, $"{throttled} of {api.Count} requests were answered 429");
        foreach (var (lecturer, booking) in work)
        {
            var row = await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<Azure.Data.Tables.TableEntity>(lecturer, booking);
            Assert.False(string.IsNullOrEmpty(row.Value.GetString("ZoomMeetingId")), $"{booking} has no meeting id");
        }
    }

    [Fact]
    public async Task Budget_TableUnreachable_PacesAtTheFallbackShareInsteadOfUnlimited()
    {
        var unreachable = StorageAccount.FromConnectionString(WithTableEndpoint(fixture.Sandbox.StorageConnectionString, ClosedLoopbackPort()));
        var options = Options.Create(new ZoomOptions { RateBudgetFallbackInstances = 4 });
        using var budget = new ZoomRateBudget(unreachable, options, NullLogger<ZoomRateBudget>.Instance, TimeProvider.System);

        var grants = new List<DateTimeOffset>();
        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(async () =>
        {
            using var lease = await budget.AcquireAsync();
            Assert.True(lease.IsAcquired);
            lock (grants)
            {
                grants.Add(TimeProvider.System.GetUtcNow());
            }
        })));

        // 19/s shared by 4 assumed instances: 4.75/s here, so ten requests span about 1.9 s instead of going at once.
        var sorted = grants.Order().ToList();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"table unreachable: 10 grants in {(sorted[^1] - sorted[0]).TotalSeconds:F2} s, max {MaxInAnySecond(sorted)} in any 1 s window"));
        Assert.True(budget.IsPacingLocally);
        Assert.True(MaxInAnySecond(sorted) <= 5, $"{MaxInAnySecond(sorted)} grants in one second");
        Assert.True(sorted[^1] - sorted[0] >= TimeSpan.FromSeconds(9 / 4.75) - TimeSpan.FromMilliseconds(20));
    }

    /// <summary>
    /// 24 callers per instance (a host batch of 16 plus 8), each sending again as soon as it may — far more demand than
    /// the budget — for <paramref name="duration"/>. Off xunit's synchronisation context, so a grant is timed when the
    /// caller gets it. Returns when each was granted and the send time its lease named.
    /// </summary>
    private static async Task<(List<DateTimeOffset> Grants, List<DateTimeOffset> SendAts)> HammerAsync(List<ZoomRateBudget> budgets, TimeSpan duration)
    {
        var grants = new List<DateTimeOffset>();
        var sendAts = new List<DateTimeOffset>();
        using var run = new CancellationTokenSource(duration);
        await Task.WhenAll(budgets.SelectMany(budget => Enumerable.Range(0, 24).Select(_ => Task.Run(async () =>
        {
            while (!run.IsCancellationRequested)
            {
                RateLimitLease lease;
                try
                {
                    lease = await budget.AcquireAsync(1, run.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                using (lease)
                {
                    Assert.True(lease.IsAcquired);
                    Assert.True(lease.TryGetMetadata(SharedRateBudget.SendAt, out var at));
                    lock (grants)
                    {
                        grants.Add(TimeProvider.System.GetUtcNow());
                        sendAts.Add(at);
                    }
                }
            }
        }))));
        return (grants, sendAts);
    }

    /// <summary>The most timestamps in any one-second window [t, t + 1 s), whatever its alignment.</summary>
    internal static int MaxInAnySecond(List<DateTimeOffset> sorted)
    {
        var (max, first) = (0, 0);
        for (var last = 0; last < sorted.Count; last++)
        {
            while (sorted[last] - sorted[first] >= TimeSpan.FromSeconds(1))
            {
                first++;
            }

            max = Math.Max(max, last - first + 1);
        }

        return max;
    }

    /// <summary>The most timestamps in one fixed UTC second, the way the simulator counts.</summary>
    internal static int MaxInAnyUtcSecond(List<DateTimeOffset> sorted) =>
        sorted.Count == 0 ? 0 : sorted.GroupBy(t => t.ToUnixTimeSeconds()).Max(g => g.Count());

    private static int ClosedLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static string WithTableEndpoint(string connectionString, int port) => string.Join(';', connectionString
        .Split(';', StringSplitOptions.RemoveEmptyEntries)
        .Select(part => part.StartsWith("TableEndpoint=", StringComparison.Ordinal) ? $"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1" : part));
}
