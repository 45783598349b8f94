using Cafetalk.Integrations.IntegrationTests.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Cafetalk.Integrations.IntegrationTests.Zoom;

/// <summary>
/// What the Zoom converger's look-ups cost in storage requests when warm, and that what this instance remembers never
/// lets a host past its daily count nor keeps an assignment longer than its lifetime.
/// </summary>
public sealed class ZoomLookupCostTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    public async Task InitializeAsync() => await fixture.Storage.EnsureProvisionedAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Reserve_WarmOnThisInstance_IsOneWrite_AndAnotherInstancesReservationStillCounts()
    {
        var (storage, counter) = TableRequestCounter.Attach(fixture.Sandbox.StorageConnectionString);
        var options = Options.Create(new ZoomOptions { DailyCreateUpdateLimitPerHost = 3 });
        var here = new ZoomDailyLimit(storage, options, TimeProvider.System);
        var elsewhere = new ZoomDailyLimit(storage, options, TimeProvider.System);
        var host = LedgerScenario.Unique("host");
        await here.ReserveAsync(host);
        counter.Reset();

        await here.ReserveAsync(host);
        var warmRequests = counter.Requests;
        await elsewhere.ReserveAsync(host);

        Assert.Equal(1, warmRequests);
        // This instance's remembered count (2) is stale: the write is refused, the row re-read, and the third call is the last.
        await Assert.ThrowsAsync<ZoomDailyLimitReachedException>(() => here.ReserveAsync(host));
        Assert.Equal(3, await here.UsedTodayAsync(host));
    }

    [Fact]
    public async Task Resolve_WarmOnThisInstance_ReadsNothing_AndAnotherInstancesAssignmentArrivesWithinTheLifetime()
    {
        var (storage, counter) = TableRequestCounter.Attach(fixture.Sandbox.StorageConnectionString);
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var options = Options.Create(new ZoomOptions { DefaultHostUserId = "host-default" });
        var here = new ZoomHostDirectory(storage, options, time);
        var elsewhere = new ZoomHostDirectory(storage, options, time);
        var lecturer = LedgerScenario.Unique("lec");
        await here.AssignAsync(lecturer, "host-first");
        counter.Reset();

        var warm = await here.ResolveAsync(lecturer);
        var warmRequests = counter.Requests;
        await elsewhere.AssignAsync(lecturer, "host-second");
        time.Advance(ZoomHostDirectory.KnownHostLifetime);

        Assert.Equal(("host-first", 0), (warm, warmRequests));
        Assert.Equal("host-second", await here.ResolveAsync(lecturer));
    }
}
