using Azure.Storage.Queues;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cafetalk.Integrations.IntegrationTests.Zoom;

/// <summary>The per-host daily limit: work past it waits on the queue until after 00:00 UTC, never retried hot.</summary>
public sealed class ZoomDailyLimitTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private static readonly DateTimeOffset Later = TimeProvider.System.GetUtcNow().AddDays(3);

    public async Task InitializeAsync()
    {
        await fixture.Storage.EnsureProvisionedAsync();
        fixture.Sandbox.Zoom.ClearRequests();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static async Task<int> CountAsync(QueueClient queue) => (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount;

    private static async Task IngestAsync(ServiceProvider services, string bookingId, string lecturerId) =>
        await services.GetRequiredService<BookingEventIntake>().ProcessAsync(
            SampleEvents.Booking(EventTypes.BookingConfirmed, bookingId, 1, Later, lecturerId: lecturerId), null);

    [Fact]
    public async Task Handle_HostAtOurDailyCount_ReschedulesAfterResetWithoutCallingZoom()
    {
        await using var services = fixture.CreateServices(configure: s => s.Configure<ZoomOptions>(o => o.DailyCreateUpdateLimitPerHost = 2));
        await services.GetRequiredService<ZoomHostDirectory>().AssignAsync("lec_quota", "host-quota");
        var handler = services.GetRequiredService<ZoomConvergeHandler>();
        var queue = fixture.Storage.Queue(QueueNames.ZoomConverge);
        foreach (var booking in new[] { "bk_quota_1", "bk_quota_2", "bk_quota_3" })
        {
            await IngestAsync(services, booking, "lec_quota");
        }

        // Intake asked for these converges; the test drives the handler itself, so only reschedules should remain.
        await queue.ClearMessagesAsync();

        var first = await handler.HandleAsync(new ConvergeRequest("lec_quota", "bk_quota_1").ToJson(), "m1");
        var second = await handler.HandleAsync(new ConvergeRequest("lec_quota", "bk_quota_2").ToJson(), "m2");
        var third = await handler.HandleAsync(new ConvergeRequest("lec_quota", "bk_quota_3").ToJson(), "m3");

        Assert.Equal(MeetingConvergence.Created, first!.Outcome);
        Assert.Equal(MeetingConvergence.Created, second!.Outcome);
        Assert.Equal(MeetingConvergence.Deferred, third!.Outcome);
        Assert.Equal(ZoomDailyLimit.NextResetUtc(TimeProvider.System.GetUtcNow(), TimeSpan.FromMinutes(1)), third.RetryAtUtc);
        Assert.Equal(2, fixture.Sandbox.Zoom.Requests.Count(r => r.IsCreate));
        Assert.Equal(1, await CountAsync(queue));
        Assert.Empty((await queue.ReceiveMessagesAsync(maxMessages: 32)).Value);
        Assert.Equal(2, await services.GetRequiredService<ZoomDailyLimit>().UsedTodayAsync("host-quota"));
    }

    /// <summary>Zoom's daily-limit 429 is documented with <c>X-RateLimit-Type: Daily-limit</c> but seen without it: both must defer to 00:00 UTC.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Handle_ZoomRefusesWithDailyLimit_NotRetriedHotAndHostMarkedSpent(bool sendsRateLimitType)
    {
        var (lecturer, host, first, second) = ($"lec_spent_{sendsRateLimitType}", $"host-spent-{sendsRateLimitType}", $"bk_spent_{sendsRateLimitType}_1", $"bk_spent_{sendsRateLimitType}_2");
        await using var services = fixture.CreateServices();
        await services.GetRequiredService<ZoomHostDirectory>().AssignAsync(lecturer, host);
        var zoom = fixture.Sandbox.Zoom;
        var queue = fixture.Storage.Queue(QueueNames.ZoomConverge);
        await IngestAsync(services, first, lecturer);
        await IngestAsync(services, second, lecturer);
        await queue.ClearMessagesAsync();
        zoom.DailyLimitPerHost = 1;
        zoom.DailyLimitSendsRateLimitType = sendsRateLimitType;
        try
        {
            var handler = services.GetRequiredService<ZoomConvergeHandler>();
            await handler.HandleAsync(new ConvergeRequest(lecturer, first).ToJson(), "m1");
            var refused = await handler.HandleAsync(new ConvergeRequest(lecturer, second).ToJson(), "m2");

            Assert.Equal(MeetingConvergence.Deferred, refused!.Outcome);
            Assert.Equal(ZoomDailyLimit.NextResetUtc(TimeProvider.System.GetUtcNow(), TimeSpan.FromMinutes(1)), refused.RetryAtUtc);
            Assert.Single(zoom.Requests, r => r.IsCreate && r.Status == 429);
            Assert.Equal(100, await services.GetRequiredService<ZoomDailyLimit>().UsedTodayAsync(host));
            Assert.Equal(1, await CountAsync(queue));
            Assert.Equal(string.Empty, (await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<Azure.Data.Tables.TableEntity>(lecturer, second)).Value.GetString("ZoomMeetingId"));
        }
        finally
        {
            zoom.DailyLimitPerHost = 100;
            zoom.DailyLimitSendsRateLimitType = false;
        }
    }

    [Fact]
    public async Task Reschedule_UntilMidnightUtc_MessageStaysInvisibleUntilTheReset()
    {
        var now = TimeProvider.System.GetUtcNow();
        var time = new FakeTimeProvider(new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddDays(1).AddSeconds(-2));
        var queue = fixture.Storage.Queue("reschedule-probe");
        await queue.CreateIfNotExistsAsync();
        var rescheduler = new QueueRescheduler(fixture.Storage, time);

        var delay = await rescheduler.RescheduleAsync("reschedule-probe", "probe", ZoomDailyLimit.NextResetUtc(time.GetUtcNow(), TimeSpan.Zero));

        Assert.Equal(TimeSpan.FromSeconds(2), delay);
        Assert.Empty((await queue.ReceiveMessagesAsync()).Value);
        Assert.Equal(1, await CountAsync(queue));
        await Task.Delay(TimeSpan.FromSeconds(3));
        var visible = Assert.Single((await queue.ReceiveMessagesAsync()).Value);
        Assert.Equal("probe", visible.Body.ToString());
    }
}
