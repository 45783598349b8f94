using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Zoom;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Zoom;

/// <summary>
/// The host pool against Azurite and the Zoom simulator: concurrent placements never share a slot, overlapping lessons
/// of lecturers without their own Zoom user land on different hosts, a reschedule into an overlap moves the meeting,
/// and a lesson no host can take waits and the site hears it. Its own Sandbox: the pool is global to the account.
/// </summary>
public sealed class ZoomHostPoolTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private static readonly DateTimeOffset Day = new DateTimeOffset(TimeProvider.System.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero).AddDays(3);
    private ServiceProvider _services = null!;

    private ZoomSimulator Zoom => fixture.Sandbox.Zoom;

    public async Task InitializeAsync()
    {
        _services = fixture.CreateServices(configure: services => services.Configure<ZoomOptions>(o => o.RetryBaseDelay = TimeSpan.FromMilliseconds(20)));
        await fixture.Storage.EnsureProvisionedAsync();
        var pool = _services.GetRequiredService<ZoomHostPool>();
        await pool.AddAsync("pool-host-a", 1, null);
        await pool.AddAsync("pool-host-b", 1, null);
    }

    public async Task DisposeAsync() => await _services.DisposeAsync();

    private async Task IngestAsync(string type, string bookingId, long version, DateTimeOffset startsAt, string lecturerId, int minutes = 50)
    {
        var outcome = await _services.GetRequiredService<BookingEventIntake>()
            .ProcessAsync(SampleEvents.Booking(type, bookingId, version, startsAt, lecturerId: lecturerId, durationMinutes: minutes), null);
        Assert.NotEqual(IntakeDisposition.Rejected, outcome.Disposition);
    }

    private Task<MeetingConvergeResult> ConvergeAsync(string lecturerId, string bookingId) =>
        _services.GetRequiredService<MeetingConverger>().ConvergeAsync(lecturerId, bookingId);

    private async Task<TableEntity> RowAsync(string lecturerId, string bookingId) =>
        (await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>(lecturerId, bookingId)).Value;

    private SimulatedMeeting MeetingOf(TableEntity row) => Assert.Single(Zoom.Meetings, m => m.Id.ToString(CultureInfo.InvariantCulture) == row.GetString("ZoomMeetingId"));

    [Fact]
    public async Task Reserve_EightConcurrentPlacementsOfOneSlot_ExactlyOneWins()
    {
        var reservations = _services.GetRequiredService<ZoomHostReservations>();
        var slots = ZoomHostSlots.For(Day.AddHours(1), 50, TimeSpan.FromMinutes(10));
        var empty = new Dictionary<(int Lane, string Slot), string>();

        var won = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => reservations.TryReserveAsync("race-host", 0, $"bk_race_{i}", slots, empty)));

        Assert.Equal(1, won.Count(w => w));
        var held = await reservations.ReadAsync(new ZoomPoolHost("race-host", 1, 100), slots[0], slots[^1]);
        Assert.Equal(slots.Count, held.Count);
        Assert.Single(held.Values.Distinct());
    }

    [Fact]
    public async Task Place_EightConcurrentOverlappingLessons_TwoHostsTakeTwo_SixFindNoHost()
    {
        var placer = _services.GetRequiredService<ZoomHostPlacer>();
        var start = Day.AddHours(2);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => placer.PlaceAsync($"bk_crowd_{i}", start.AddMinutes(i * 5), 50, null, null)));

        var placed = results.Where(r => r.Status == ZoomHostPlacementStatus.Placed).ToList();
        Assert.Equal(2, placed.Count);
        Assert.Equal(["pool-host-a", "pool-host-b"], placed.Select(p => p.HostId!).Order(StringComparer.Ordinal));
        Assert.Equal(6, results.Count(r => r.Status == ZoomHostPlacementStatus.NoFreeHost));
    }

    [Fact]
    public async Task Converge_OverlappingLessonsOfPooledLecturers_LandOnDifferentHosts_TheThirdWaitsAndTheSiteHears()
    {
        var start = Day.AddHours(5);
        await IngestAsync(EventTypes.BookingConfirmed, "bk_ov_1", 1, start, "lec_ov_1");
        await IngestAsync(EventTypes.BookingConfirmed, "bk_ov_2", 1, start.AddMinutes(10), "lec_ov_2");
        await IngestAsync(EventTypes.BookingConfirmed, "bk_ov_3", 1, start.AddMinutes(20), "lec_ov_3");
        // A lecturer with their own Zoom user is not on the pool and takes no pool slot.
        await _services.GetRequiredService<ZoomHostDirectory>().AssignAsync("lec_ov_own", "own-zoom-user");
        await IngestAsync(EventTypes.BookingConfirmed, "bk_ov_own", 1, start, "lec_ov_own");

        Assert.Equal(MeetingConvergence.Created, (await ConvergeAsync("lec_ov_1", "bk_ov_1")).Outcome);
        Assert.Equal(MeetingConvergence.Created, (await ConvergeAsync("lec_ov_2", "bk_ov_2")).Outcome);
        var third = await ConvergeAsync("lec_ov_3", "bk_ov_3");
        Assert.Equal(MeetingConvergence.Created, (await ConvergeAsync("lec_ov_own", "bk_ov_own")).Outcome);

        var hosts = new[] { MeetingOf(await RowAsync("lec_ov_1", "bk_ov_1")).HostId, MeetingOf(await RowAsync("lec_ov_2", "bk_ov_2")).HostId };
        Assert.Equal(["pool-host-a", "pool-host-b"], hosts.Order(StringComparer.Ordinal));
        Assert.Equal("own-zoom-user", MeetingOf(await RowAsync("lec_ov_own", "bk_ov_own")).HostId);
        Assert.Equal(MeetingConvergence.Deferred, third.Outcome);
        Assert.True(third.RetryAtUtc > TimeProvider.System.GetUtcNow().AddMinutes(14));
        Assert.Equal(string.Empty, (await RowAsync("lec_ov_3", "bk_ov_3")).GetString("ZoomMeetingId") ?? string.Empty);
        Assert.Equal(0, Zoom.OverlappingMeetings);
        Assert.Contains(await NotificationsAsync(), n => n.Type == SiteNotificationTypes.ProviderProblem.Type && n.BookingId == "bk_ov_3" && n.Problem == "not-created");

        // The first lesson is cancelled: its host is free again, and the waiting lesson takes it.
        await IngestAsync(EventTypes.BookingCancelled, "bk_ov_1", 2, start, "lec_ov_1");
        Assert.Equal(MeetingConvergence.Deleted, (await ConvergeAsync("lec_ov_1", "bk_ov_1")).Outcome);
        Assert.Equal(MeetingConvergence.Created, (await ConvergeAsync("lec_ov_3", "bk_ov_3")).Outcome);
        Assert.Equal(hosts[0], MeetingOf(await RowAsync("lec_ov_3", "bk_ov_3")).HostId);
        Assert.Equal(0, Zoom.OverlappingMeetings);
    }

    [Fact]
    public async Task Converge_RescheduleIntoAnOverlap_WaitsWhileNoHostIsFree_ThenDeletesAndCreatesOnTheFreeHost()
    {
        var nine = Day.AddHours(9);
        await IngestAsync(EventTypes.BookingConfirmed, "bk_mv_1", 1, nine, "lec_mv_1");
        await IngestAsync(EventTypes.BookingConfirmed, "bk_mv_2", 1, nine, "lec_mv_2");
        await IngestAsync(EventTypes.BookingConfirmed, "bk_mv_3", 1, nine.AddHours(3), "lec_mv_3");
        await ConvergeAsync("lec_mv_1", "bk_mv_1");
        await ConvergeAsync("lec_mv_2", "bk_mv_2");
        await ConvergeAsync("lec_mv_3", "bk_mv_3");
        var moving = MeetingOf(await RowAsync("lec_mv_3", "bk_mv_3"));
        var host1 = MeetingOf(await RowAsync("lec_mv_1", "bk_mv_1")).HostId;
        // The 9:00 lesson on the other host is the one that will make room.
        var (otherLecturer, otherBooking) = host1 == moving.HostId ? ("lec_mv_2", "bk_mv_2") : ("lec_mv_1", "bk_mv_1");
        var otherHost = MeetingOf(await RowAsync(otherLecturer, otherBooking)).HostId;
        Assert.NotEqual(moving.HostId, otherHost);

        // A small shift fits its host: an update, same meeting, same host.
        await IngestAsync(EventTypes.BookingRescheduled, "bk_mv_3", 2, nine.AddHours(3).AddMinutes(15), "lec_mv_3");
        Assert.Equal(MeetingConvergence.Updated, (await ConvergeAsync("lec_mv_3", "bk_mv_3")).Outcome);
        var before = await RowAsync("lec_mv_3", "bk_mv_3");
        Assert.Equal(moving.Id, MeetingOf(before).Id);

        // Onto 9:20, where both hosts are busy: it waits, the meeting stays as it was, the site hears it.
        await IngestAsync(EventTypes.BookingRescheduled, "bk_mv_3", 3, nine.AddMinutes(20), "lec_mv_3");
        Assert.Equal(MeetingConvergence.Deferred, (await ConvergeAsync("lec_mv_3", "bk_mv_3")).Outcome);
        Assert.Equal(moving.Id, MeetingOf(await RowAsync("lec_mv_3", "bk_mv_3")).Id);
        Assert.Contains(await NotificationsAsync(), n => n.BookingId == "bk_mv_3" && n.Problem == "not-updated");

        // The other host's 9:00 lesson is cancelled: the next converge moves the meeting there (Zoom's update cannot change the host).
        await IngestAsync(EventTypes.BookingCancelled, otherBooking, 2, nine, otherLecturer);
        await ConvergeAsync(otherLecturer, otherBooking);
        Zoom.ClearRequests();
        var moved = await ConvergeAsync("lec_mv_3", "bk_mv_3");

        var after = await RowAsync("lec_mv_3", "bk_mv_3");
        var newMeeting = MeetingOf(after);
        Assert.Equal(MeetingConvergence.Created, moved.Outcome);
        Assert.Equal(otherHost, newMeeting.HostId);
        Assert.DoesNotContain(Zoom.Meetings, m => m.Id == moving.Id);
        Assert.NotEqual(before.GetString("ZoomJoinUrl"), after.GetString("ZoomJoinUrl"));
        Assert.Equal(otherHost, after.GetString("ZoomHostId"));
        Assert.Equal(nine.AddMinutes(20), after.GetDateTimeOffset("ZoomStartsAtUtc"));
        var api = Zoom.Requests.Where(r => r.IsApi).Select(r => $"{r.Method} {r.Path}").ToList();
        Assert.Equal(["DELETE /v2/meetings/" + moving.Id, $"POST /v2/users/{otherHost}/meetings"], api);
        Assert.Equal(0, Zoom.OverlappingMeetings);
        // The calendar hears of the new link.
        var calendar = (await fixture.Storage.Queue(QueueNames.CalendarConverge).PeekMessagesAsync(32)).Value;
        Assert.Contains(calendar, m => m.Body.ToString().Contains("bk_mv_3", StringComparison.Ordinal));
    }

    private async Task<List<(string Type, string? BookingId, string? Problem)>> NotificationsAsync()
    {
        var found = new List<(string, string?, string?)>();
        var queue = fixture.Storage.Queue(QueueNames.SiteNotifications);
        foreach (var message in (await queue.PeekMessagesAsync(32)).Value)
        {
            using var json = JsonDocument.Parse(message.Body.ToString());
            var data = json.RootElement.GetProperty("data");
            found.Add((json.RootElement.GetProperty("type").GetString()!,
                data.TryGetProperty("bookingId", out var b) ? b.GetString() : null,
                data.TryGetProperty("problem", out var p) ? p.GetString() : null));
        }

        return found;
    }
}
