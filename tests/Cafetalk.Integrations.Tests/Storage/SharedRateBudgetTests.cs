using System.Threading.RateLimiting;
using Azure;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Cafetalk.Integrations.Tests.Storage;

/// <summary>
/// The shared rate budget on a fake clock: the send times it hands out (lease metadata), when leases are granted,
/// how many reservations it makes, and what it does when the table fails. The table itself is tested against
/// Azurite in the integration tests.
/// </summary>
public sealed class SharedRateBudgetTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 2, 9, 0, 0, 300, TimeSpan.Zero);
    private static readonly SharedRateBudgetOptions Zoom = ZoomRateBudget.OptionsFrom(new ZoomOptions());

    [Fact]
    public void ZoomDefaults_HandOutNineteenPerSecondOfTwenty()
    {
        Assert.Equal(20, Zoom.RequestsPerSecond);
        Assert.Equal(19, Zoom.EffectiveRequestsPerSecond, precision: 6);
        Assert.True(Zoom.Spacing >= TimeSpan.FromSeconds(1.0 / 19), $"{Zoom.Spacing} is shorter than 1/19 s");
        Assert.Equal(5, Zoom.BlockSize);
    }

    [Fact]
    public async Task Acquire_FourInstancesSharingOneSchedule_NoOneSecondAnywhereHoldsMoreThanTheBudget()
    {
        var time = new FakeTimeProvider(Start);
        var schedule = new ScriptedSchedule();
        var budgets = Enumerable.Range(0, 4).Select(_ => CreateSut(schedule, time)).ToList();

        var grants = await RunAsync(time, budgets.SelectMany(b => Enumerable.Range(0, 40).Select(_ => AcquireAsync(b, time))));

        var sendTimes = grants.Select(g => g.SendAt).Order().ToList();
        Assert.Equal(160, sendTimes.Count);
        Assert.All(grants, g => Assert.True(g.GrantedAt >= g.SendAt, $"granted at {g.GrantedAt:O}, before its send time {g.SendAt:O}"));
        // Evenly spaced across all four instances, so any one-second window, however aligned, holds at most 19.
        Assert.All(sendTimes.Zip(sendTimes.Skip(1)), pair => Assert.True(pair.Second - pair.First >= Zoom.Spacing, $"{pair.First:O} and {pair.Second:O} are too close"));
        Assert.True(MaxInAnySecond(sendTimes) <= 19, $"{MaxInAnySecond(sendTimes)} send times in one second");
        var achieved = sendTimes.Count / (sendTimes[^1] - sendTimes[0] + Zoom.Spacing).TotalSeconds;
        Assert.True(achieved >= 0.9 * 20, $"{achieved:F1} requests/s");
        // Blocks of at most five, reserved only for requests already waiting: 160 requests, 32 reservations.
        Assert.All(schedule.Reservations, count => Assert.InRange(count, 1, 5));
        Assert.Equal(160, schedule.Reservations.Sum());
        Assert.True(schedule.Reservations.Count <= 40, $"{schedule.Reservations.Count} reservations");
    }

    [Fact]
    public async Task Acquire_BurstOnOneInstance_HoldsAtMostTwoBlocksSoAnotherInstanceIsServedSoon()
    {
        var time = new FakeTimeProvider(Start);
        var schedule = new ScriptedSchedule();
        var (busy, quiet) = (CreateSut(schedule, time), CreateSut(schedule, time));
        var burst = Enumerable.Range(0, 40).Select(_ => AcquireAsync(busy, time)).ToList();
        await SettleAsync(time, TimeSpan.FromMilliseconds(200));

        var late = AcquireAsync(quiet, time);
        var grants = await RunAsync(time, [.. burst, late]);

        // The burst alone would take 40/19 ≈ 2.1 s; the quiet instance's request goes after at most two of its blocks.
        var quietGrant = await late;
        Assert.True(quietGrant.SendAt - Start < TimeSpan.FromSeconds(0.9), $"the quiet instance waited until {quietGrant.SendAt - Start}");
        Assert.True(MaxInAnySecond(grants.Select(g => g.SendAt).Order().ToList()) <= 19);
    }

    [Fact]
    public async Task Acquire_TableFails_PacesLocallyAtTheFairShareOfTheInstancesLastSeen()
    {
        var time = new FakeTimeProvider(Start);
        var schedule = new ScriptedSchedule { ActiveInstances = 4 };
        // A fallback longer than the run: on a loaded machine the fake clock can outrun the budget's continuations, and
        // a 10 s fallback ending mid-run would rightly ask the table again (a flake seen in CI, not a pacing fault).
        using var budget = CreateSut(schedule, time, Zoom with { FallbackDuration = TimeSpan.FromMinutes(5) });
        await RunAsync(time, [AcquireAsync(budget, time)]);
        schedule.Fail = true;

        var grants = await RunAsync(time, Enumerable.Range(0, 12).Select(_ => AcquireAsync(budget, time)));

        // 19/s shared by 4 instances: this one sends at most 4.75/s, never unlimited, and every request still goes.
        var sendTimes = grants.Select(g => g.SendAt).Order().ToList();
        Assert.Equal(12, sendTimes.Count);
        Assert.All(sendTimes.Zip(sendTimes.Skip(1)), pair => Assert.True(pair.Second - pair.First >= Zoom.Spacing * 4));
        Assert.True(MaxInAnySecond(sendTimes) <= 5, $"{MaxInAnySecond(sendTimes)} in one second");
        Assert.True(budget.IsPacingLocally);
        // One failed reservation; the rest were paced locally without asking the table again.
        Assert.Equal(2, schedule.Reservations.Count);
    }

    [Fact]
    public async Task Acquire_TableFailsBeforeAnyInstanceWasSeen_AssumesTheFallbackInstanceCount()
    {
        var time = new FakeTimeProvider(Start);
        var schedule = new ScriptedSchedule { Fail = true };
        using var budget = CreateSut(schedule, time, Zoom with { FallbackInstances = 8 });

        var grants = await RunAsync(time, Enumerable.Range(0, 6).Select(_ => AcquireAsync(budget, time)));

        var sendTimes = grants.Select(g => g.SendAt).Order().ToList();
        Assert.All(sendTimes.Zip(sendTimes.Skip(1)), pair => Assert.True(pair.Second - pair.First >= Zoom.Spacing * 8));
    }

    [Fact]
    public async Task Acquire_TableDoesNotAnswer_FallsBackAfterTheStorageTimeout()
    {
        var time = new FakeTimeProvider(Start);
        using var budget = CreateSut(new ScriptedSchedule { Hang = true }, time);

        var grant = (await RunAsync(time, [AcquireAsync(budget, time)])).Single();

        // Not before the table had its 2 s, and long before the table would be tried again.
        Assert.InRange(grant.SendAt - Start, Zoom.StorageTimeout, Zoom.FallbackDuration);
        Assert.True(budget.IsPacingLocally);
    }

    [Fact]
    public async Task Acquire_TableBackAfterTheFallbackDuration_SharesTheScheduleAgain()
    {
        var time = new FakeTimeProvider(Start);
        var schedule = new ScriptedSchedule { Fail = true };
        using var budget = CreateSut(schedule, time);
        await RunAsync(time, [AcquireAsync(budget, time)]);
        schedule.Fail = false;

        time.Advance(Zoom.FallbackDuration);
        var grants = await RunAsync(time, Enumerable.Range(0, 5).Select(_ => AcquireAsync(budget, time)));

        Assert.False(budget.IsPacingLocally);
        Assert.Equal(1, schedule.Reservations[0]);
        Assert.Equal(5, schedule.Reservations.Skip(1).Sum());
        var sendTimes = grants.Select(g => g.SendAt).Order().ToList();
        Assert.All(sendTimes.Zip(sendTimes.Skip(1)), pair => Assert.Equal(Zoom.Spacing, pair.Second - pair.First));
    }

    [Fact]
    public async Task Acquire_QueueFull_RefusesAtOnceWithRetryAfter()
    {
        var time = new FakeTimeProvider(Start);
        var budget = CreateSut(new ScriptedSchedule { Hang = true }, time, Zoom with { QueueLimit = 3 });
        var waiting = Enumerable.Range(0, 3).Select(_ => budget.AcquireAsync().AsTask()).ToList();

        using var refused = await budget.AcquireAsync();

        Assert.False(refused.IsAcquired);
        Assert.True(refused.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) && retryAfter > TimeSpan.Zero);
        Assert.Equal(3, budget.GetStatistics()!.CurrentQueuedCount);
        await budget.DisposeAsync();
        Assert.All(await Task.WhenAll(waiting), lease => Assert.False(lease.IsAcquired));
    }

    [Fact]
    public async Task Acquire_CancelledWhileQueued_ThrowsAndLeavesTheQueue()
    {
        var time = new FakeTimeProvider(Start);
        using var budget = CreateSut(new ScriptedSchedule { Hang = true }, time);
        using var cancel = new CancellationTokenSource();
        var cancelled = budget.AcquireAsync(1, cancel.Token).AsTask();
        await SettleAsync(time, TimeSpan.Zero);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(0, budget.GetStatistics()!.CurrentQueuedCount);
    }

    [Fact]
    public async Task Acquire_CancelledWhileWaitingForItsSendTime_TheNextRequestGetsThatTimeWithoutReservingAgain()
    {
        var time = new FakeTimeProvider(Start);
        var schedule = new ScriptedSchedule();
        using var budget = CreateSut(schedule, time);
        using var cancel = new CancellationTokenSource();
        var first = AcquireAsync(budget, time);
        var second = budget.AcquireAsync(1, cancel.Token).AsTask();
        await SettleAsync(time, TimeSpan.Zero);
        await SettleAsync(time, TimeSpan.Zero);
        Assert.Equal(0, budget.GetStatistics()!.CurrentQueuedCount); // both have their send times

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
        Assert.Equal(1, budget.GetStatistics()!.CurrentAvailablePermits);
        var grants = await RunAsync(time, [first, AcquireAsync(budget, time)]);

        Assert.Equal([Start, Start + Zoom.Spacing], grants.Select(g => g.SendAt));
        Assert.Equal(2, schedule.Reservations.Sum());
    }

    private static SharedRateBudget CreateSut(ScriptedSchedule schedule, TimeProvider time, SharedRateBudgetOptions? options = null) =>
        new(schedule, options ?? Zoom, NullLogger.Instance, time);

    private static async Task<Grant> AcquireAsync(SharedRateBudget budget, TimeProvider time)
    {
        using var lease = await budget.AcquireAsync();
        Assert.True(lease.IsAcquired);
        Assert.True(lease.TryGetMetadata(SharedRateBudget.SendAt, out var sendAt));
        return new Grant(sendAt, time.GetUtcNow());
    }

    /// <summary>Moves the fake clock in 25 ms steps, letting the budget's tasks run between steps, until every task is done.</summary>
    private static async Task<List<Grant>> RunAsync(FakeTimeProvider time, IEnumerable<Task<Grant>> acquisitions)
    {
        var tasks = acquisitions.ToList();
        var deadline = time.GetUtcNow() + TimeSpan.FromMinutes(2);
        while (!tasks.TrueForAll(t => t.IsCompleted) && time.GetUtcNow() < deadline)
        {
            await SettleAsync(time, TimeSpan.FromMilliseconds(25));
        }

        return [.. await Task.WhenAll(tasks)];
    }

    private static async Task SettleAsync(FakeTimeProvider time, TimeSpan advance)
    {
        // Real time, only to let the thread pool run the budget's continuations before the clock moves on.
        await Task.Delay(1);
        for (var wait = 0; wait < 20 && ThreadPool.PendingWorkItemCount > 0; wait++)
        {
            await Task.Delay(1);
        }

        time.Advance(advance);
    }

    /// <summary>The most send times in any one-second window [t, t + 1 s), whatever its alignment.</summary>
    private static int MaxInAnySecond(List<DateTimeOffset> sorted)
    {
        var max = 0;
        var first = 0;
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

    private sealed record Grant(DateTimeOffset SendAt, DateTimeOffset GrantedAt);

    /// <summary>A shared schedule in memory that can fail, never answer, and report how many instances share it.</summary>
    private sealed class ScriptedSchedule : IRateSchedule
    {
        private readonly LocalRateSchedule _schedule = new();
        private readonly List<int> _reservations = [];

        public int ActiveInstances { get; set; } = 1;

        public bool Fail { get; set; }

        public bool Hang { get; set; }

        public List<int> Reservations
        {
            get
            {
                lock (_reservations)
                {
                    return [.. _reservations];
                }
            }
        }

        public Task<RateSlots> ReserveAsync(int count, TimeSpan spacing, DateTimeOffset notBefore, CancellationToken cancellationToken)
        {
            lock (_reservations)
            {
                _reservations.Add(count);
            }

            if (Hang)
            {
                return Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken).ContinueWith<RateSlots>(_ => throw new OperationCanceledException(cancellationToken), TaskScheduler.Default);
            }

            return Fail
                ? Task.FromException<RateSlots>(new RequestFailedException(503, "The server is busy."))
                : Task.FromResult(_schedule.Reserve(count, spacing, notBefore) with { ActiveInstances = ActiveInstances });
        }
    }
}
