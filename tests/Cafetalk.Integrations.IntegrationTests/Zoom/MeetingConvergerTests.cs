using System.Globalization;
using System.Net;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Zoom;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Cafetalk.Integrations.IntegrationTests.Zoom;

/// <summary>The meeting converger against Azurite and the Zoom simulator: what goes over the wire and what the row holds.</summary>
public sealed class MeetingConvergerTests(SandboxFixture fixture, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private static readonly DateTimeOffset Tomorrow = new DateTimeOffset(TimeProvider.System.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero).AddDays(2).AddHours(10);
    private ServiceProvider _services = null!;

    private ZoomSimulator Zoom => fixture.Sandbox.Zoom;

    public async Task InitializeAsync()
    {
        _services = CreateServices();
        await fixture.Storage.EnsureProvisionedAsync();
        Zoom.ClearRequests();
        Zoom.RequestsPerSecond = 20;
        Zoom.DailyLimitPerHost = 100;
    }

    public async Task DisposeAsync() => await _services.DisposeAsync();

    private ServiceProvider CreateServices(Action<ZoomOptions>? zoom = null) => fixture.CreateServices(configure: services =>
        services.Configure<ZoomOptions>(o =>
        {
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
            o.RetryMaxDelay = TimeSpan.FromSeconds(2);
            zoom?.Invoke(o);
        }));

    private async Task IngestAsync(string type, string bookingId, long version, DateTimeOffset startsAt, string lecturerId)
    {
        var outcome = await _services.GetRequiredService<BookingEventIntake>()
            .ProcessAsync(SampleEvents.Booking(type, bookingId, version, startsAt, lecturerId: lecturerId), null);
        Assert.NotEqual(IntakeDisposition.Rejected, outcome.Disposition);
    }

    private Task<MeetingConvergeResult> ConvergeAsync(string lecturerId, string bookingId, ServiceProvider? services = null) =>
        (services ?? _services).GetRequiredService<MeetingConverger>().ConvergeAsync(lecturerId, bookingId);

    private async Task<TableEntity> RowAsync(string lecturerId, string bookingId) =>
        (await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>(lecturerId, bookingId)).Value;

    private string Reference(string bookingId) => _services.GetRequiredService<ZoomBookingReference>().For(bookingId);

    private List<SimulatedMeeting> MeetingsOf(string bookingId) =>
        [.. Zoom.Meetings.Where(m => m.Body["agenda"]?.GetValue<string>() == Reference(bookingId))];

    private List<RecordedZoomRequest> Api() => [.. Zoom.Requests.Where(r => r.IsApi)];

    [Fact]
    public async Task Converge_SameEventDeliveredThreeTimes_CreatesOneMinimalMeeting()
    {
        const string lecturer = "lec_same3";
        for (var delivery = 0; delivery < 3; delivery++)
        {
            await IngestAsync(EventTypes.BookingConfirmed, "bk_same3", 1, Tomorrow, lecturer);
            await ConvergeAsync(lecturer, "bk_same3");
        }

        var meeting = Assert.Single(MeetingsOf("bk_same3"));
        var create = Assert.Single(Api());
        Assert.Equal("POST", create.Method);
        Assert.Equal($"/v2/users/{ZoomSimulator.DefaultHostUserId}/meetings", create.Path);
        Assert.Equal(1, Zoom.Requests.Count(r => r.IsToken));
        Assert.Empty(meeting.UnexpectedFields);
        Assert.Equal("Cafetalk lesson", meeting.Body["topic"]!.GetValue<string>());
        Assert.Equal("cloud", meeting.Body["settings"]!["auto_recording"]!.GetValue<string>());
        foreach (var planted in SampleEvents.PlantedPersonalValues.Concat(["stu_90311", lecturer, "bk_same3"]))
        {
            Assert.DoesNotContain(Zoom.Requests, r => r.Body.Contains(planted, StringComparison.Ordinal) || r.Path.Contains(planted, StringComparison.Ordinal));
        }

        var row = await RowAsync(lecturer, "bk_same3");
        Assert.Equal(meeting.Id.ToString(CultureInfo.InvariantCulture), row.GetString("ZoomMeetingId"));
        Assert.Equal(1, row.GetInt64("ZoomConvergedVersion"));
    }

    [Fact]
    public async Task Converge_LecturerWithZoomHostRow_CreatesOnThatHostNotTheDefault()
    {
        await _services.GetRequiredService<ZoomHostDirectory>().AssignAsync("lec_mapped", "zoom-user-77");
        await IngestAsync(EventTypes.BookingConfirmed, "bk_mapped", 1, Tomorrow, "lec_mapped");

        await ConvergeAsync("lec_mapped", "bk_mapped");

        Assert.Equal("/v2/users/zoom-user-77/meetings", Assert.Single(Api()).Path);
        Assert.Equal("zoom-user-77", Assert.Single(MeetingsOf("bk_mapped")).HostId);
    }

    [Fact]
    public async Task Converge_Reschedule_PatchesTheMeetingInsteadOfCreatingAnother()
    {
        const string lecturer = "lec_resched";
        await IngestAsync(EventTypes.BookingConfirmed, "bk_resched", 1, Tomorrow, lecturer);
        var created = await ConvergeAsync(lecturer, "bk_resched");
        Zoom.ClearRequests();

        await IngestAsync(EventTypes.BookingRescheduled, "bk_resched", 2, Tomorrow.AddHours(3), lecturer);
        var updated = await ConvergeAsync(lecturer, "bk_resched");
        await IngestAsync(EventTypes.BookingConfirmed, "bk_resched", 1, Tomorrow, lecturer); // late redelivery
        await ConvergeAsync(lecturer, "bk_resched");

        Assert.Equal(MeetingConvergence.Updated, updated.Outcome);
        Assert.Equal(created.MeetingId, updated.MeetingId);
        var patch = Assert.Single(Api());
        Assert.Equal(("PATCH", $"/v2/meetings/{created.MeetingId}"), (patch.Method, patch.Path));
        var meeting = Assert.Single(MeetingsOf("bk_resched"));
        Assert.Equal(ZoomMeetingPayload.FormatStartTime(Tomorrow.AddHours(3)), meeting.Body["start_time"]!.GetValue<string>());
    }

    [Fact]
    public async Task Converge_Cancel_DeletesTheMeeting()
    {
        const string lecturer = "lec_cancel";
        await IngestAsync(EventTypes.BookingConfirmed, "bk_cancel", 1, Tomorrow, lecturer);
        var created = await ConvergeAsync(lecturer, "bk_cancel");
        Zoom.ClearRequests();

        await IngestAsync(EventTypes.BookingCancelled, "bk_cancel", 2, Tomorrow, lecturer);
        var result = await ConvergeAsync(lecturer, "bk_cancel");
        await ConvergeAsync(lecturer, "bk_cancel");

        Assert.Equal(MeetingConvergence.Deleted, result.Outcome);
        var delete = Assert.Single(Api());
        Assert.Equal(("DELETE", $"/v2/meetings/{created.MeetingId}", 204), (delete.Method, delete.Path, delete.Status));
        Assert.Empty(MeetingsOf("bk_cancel"));
        Assert.True((await RowAsync(lecturer, "bk_cancel")).GetBoolean("ZoomDeleted"));
    }

    [Fact]
    public async Task Converge_CancelWhenZoomAlreadyLostTheMeeting_NotFoundCountsAsDone()
    {
        const string lecturer = "lec_gone";
        await IngestAsync(EventTypes.BookingConfirmed, "bk_gone", 1, Tomorrow, lecturer);
        var created = await ConvergeAsync(lecturer, "bk_gone");
        Assert.True(Zoom.RemoveMeeting(long.Parse(created.MeetingId!, CultureInfo.InvariantCulture)));
        Zoom.ClearRequests();

        await IngestAsync(EventTypes.BookingCancelled, "bk_gone", 2, Tomorrow, lecturer);
        var result = await ConvergeAsync(lecturer, "bk_gone");
        var again = await ConvergeAsync(lecturer, "bk_gone");

        Assert.Equal(MeetingConvergence.Deleted, result.Outcome);
        Assert.Equal(MeetingConvergence.UpToDate, again.Outcome);
        Assert.Equal(404, Assert.Single(Api()).Status);
        Assert.True((await RowAsync(lecturer, "bk_gone")).GetBoolean("ZoomDeleted"));
    }

    [Fact]
    public async Task Converge_CancelSeenBeforeConfirm_NothingEverReachesZoom()
    {
        const string lecturer = "lec_early";
        await IngestAsync(EventTypes.BookingCancelled, "bk_early", 2, Tomorrow, lecturer);
        await ConvergeAsync(lecturer, "bk_early");
        await IngestAsync(EventTypes.BookingConfirmed, "bk_early", 1, Tomorrow, lecturer);
        var result = await ConvergeAsync(lecturer, "bk_early");

        Assert.Equal(MeetingConvergence.UpToDate, result.Outcome);
        Assert.Empty(Zoom.Requests);
        Assert.Empty(MeetingsOf("bk_early"));
    }

    [Fact]
    public async Task Converge_CrashAfterZoomCreatedBeforeStateWrite_FindsMeetingByAgendaAndNeverCreatesTwice()
    {
        await using var services = CreateServices(o => o.CreateLease = TimeSpan.FromSeconds(3));
        const string lecturer = "lec_crash";
        await IngestAsync(EventTypes.BookingConfirmed, "bk_crash", 1, Tomorrow, lecturer);
        Zoom.CommitThenFailNextCreate();

        var crash = await Assert.ThrowsAsync<ZoomApiException>(() => ConvergeAsync(lecturer, "bk_crash", services));
        Assert.Equal(HttpStatusCode.InternalServerError, crash.Status);
        Assert.Null((await RowAsync(lecturer, "bk_crash")).GetString("ZoomMeetingId") is { Length: > 0 } id ? id : null);

        var whileLeased = await ConvergeAsync(lecturer, "bk_crash", services);
        Assert.Equal(MeetingConvergence.Deferred, whileLeased.Outcome);

        await Task.Delay(TimeSpan.FromSeconds(3.5));
        var recovered = await ConvergeAsync(lecturer, "bk_crash", services);

        var meeting = Assert.Single(MeetingsOf("bk_crash"));
        Assert.Equal(1, Api().Count(r => r.IsCreate));
        Assert.Contains(Api(), r => r.Method == "GET" && r.Path == $"/v2/users/{ZoomSimulator.DefaultHostUserId}/meetings" && r.Query.Contains("type=upcoming", StringComparison.Ordinal));
        Assert.Equal(meeting.Id.ToString(CultureInfo.InvariantCulture), recovered.MeetingId);
        Assert.Equal(recovered.MeetingId, (await RowAsync(lecturer, "bk_crash")).GetString("ZoomMeetingId"));
    }

    [Fact]
    public async Task Converge_TooManyRequestsStorm_EveryBookingConvergesOnce()
    {
        await using var services = CreateServices(o =>
        {
            o.RequestsPerSecond = 100;
            o.MaxRetryAttempts = 10;
        });
        Zoom.RequestsPerSecond = 8;
        Zoom.ThrottleNext(6);
        var bookings = Enumerable.Range(1, 24).Select(i => $"bk_storm_{i:D2}").ToList();
        foreach (var booking in bookings)
        {
            await IngestAsync(EventTypes.BookingConfirmed, booking, 1, Tomorrow.AddMinutes(bookings.IndexOf(booking)), "lec_storm");
        }

        var results = await Task.WhenAll(bookings.Select(b => ConvergeAsync("lec_storm", b, services)));

        Assert.All(results, r => Assert.Equal(MeetingConvergence.Created, r.Outcome));
        Assert.All(bookings, b => Assert.Single(MeetingsOf(b)));
        Assert.Equal(bookings.Count, Api().Count(r => r.IsCreate && r.Status == 201));
        Assert.True(Zoom.ThrottledCount > 6, $"only {Zoom.ThrottledCount} requests were throttled");
        Assert.Contains(Api(), r => r.Status == 429);
    }

    [Fact]
    public async Task Lifecycle_ConfirmRescheduleCancel_UsesTheMinimumRequests()
    {
        const string lecturer = "lec_cycle";
        var phases = new List<(string Phase, int Token, int Api)>();
        async Task PhaseAsync(string phase, string type, long version, DateTimeOffset startsAt)
        {
            Zoom.ClearRequests();
            await IngestAsync(type, "bk_cycle", version, startsAt, lecturer);
            await IngestAsync(type, "bk_cycle", version, startsAt, lecturer); // one redelivery per event
            await ConvergeAsync(lecturer, "bk_cycle");
            await ConvergeAsync(lecturer, "bk_cycle"); // and one extra converge
            phases.Add((phase, Zoom.Requests.Count(r => r.IsToken), Api().Count));
            output.WriteLine($"{phase}: {phases[^1].Token} token + {phases[^1].Api} API ({string.Join(", ", Api().Select(r => $"{r.Method} {r.Status}"))})");
        }

        await PhaseAsync("confirm", EventTypes.BookingConfirmed, 1, Tomorrow);
        await PhaseAsync("reschedule", EventTypes.BookingRescheduled, 2, Tomorrow.AddHours(1));
        await PhaseAsync("cancel", EventTypes.BookingCancelled, 3, Tomorrow.AddHours(1));

        Assert.Equal([("confirm", 1, 1), ("reschedule", 0, 1), ("cancel", 0, 1)], phases);
    }
}
