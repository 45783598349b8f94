using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Functions.Zoom;
using Cafetalk.Integrations.IntegrationTests.Faults;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Operations;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cafetalk.Integrations.IntegrationTests.Bookings;

/// <summary>
/// The outbox of site notifications against Azurite and the Zoom simulator: the fact and its marker land in one write,
/// the notification goes after, and a worker killed between the two leaves the marker for the next converge or the
/// nightly sweep — which send it with the same id.
/// </summary>
public sealed class SiteOutboxTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private static readonly DateTimeOffset Tomorrow = new DateTimeOffset(TimeProvider.System.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero).AddDays(2).AddHours(10);
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        _services = fixture.CreateServices();
        await fixture.Storage.EnsureProvisionedAsync();
    }

    public async Task DisposeAsync() => await _services.DisposeAsync();

    /// <summary>A worker whose storage dies at <paramref name="kill"/>: every request from then on fails, as when the process is gone.</summary>
    private ServiceProvider Worker(KillPolicy kill) => fixture.CreateServices(configure: services =>
        services.Replace(ServiceDescriptor.Singleton(StorageAccount.FromConnectionString(fixture.Sandbox.StorageConnectionString).WithRequestPolicy(kill))));

    private async Task IngestAsync(string type, string bookingId, long version, DateTimeOffset startsAt, string lecturerId)
    {
        var outcome = await _services.GetRequiredService<BookingEventIntake>().ProcessAsync(SampleEvents.Booking(type, bookingId, version, startsAt, lecturerId: lecturerId), null);
        Assert.NotEqual(IntakeDisposition.Rejected, outcome.Disposition);
    }

    /// <summary>A converge; <paramref name="messageId"/> stands for the queue message it runs for (a redelivery carries the same).</summary>
    private static Task<MeetingConvergeResult> ConvergeAsync(ServiceProvider services, string lecturerId, string bookingId, string? messageId = null) =>
        services.GetRequiredService<MeetingConverger>().ConvergeAsync(lecturerId, bookingId, messageId);

    private async Task<TableEntity> RowAsync(string lecturerId, string bookingId) =>
        (await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>(lecturerId, bookingId)).Value;

    /// <summary>What the site received about <paramref name="bookingId"/>: (id, type, data) per message, in queue order.</summary>
    private async Task<List<(string Id, string Type, JsonElement Data)>> ReceivedAsync(string bookingId)
    {
        var received = new List<(string, string, JsonElement)>();
        foreach (var message in (await fixture.Storage.Queue(QueueNames.SiteNotifications).PeekMessagesAsync(32)).Value)
        {
            using var json = JsonDocument.Parse(message.Body.ToString());
            var root = json.RootElement;
            if (root.GetProperty("subject").GetString() == bookingId)
            {
                received.Add((root.GetProperty("id").GetString()!, root.GetProperty("type").GetString()!, root.GetProperty("data").Clone()));
            }
        }

        return received;
    }

    [Fact]
    public async Task Converge_NewBooking_SendsMeetingReady_AsksTheCalendarNamingIt_AndTheCalendarConvergerClearsTheMarker()
    {
        await IngestAsync(EventTypes.BookingConfirmed, "bk_ob_new", 1, Tomorrow, "lec_ob_new");

        await ConvergeAsync(_services, "lec_ob_new", "bk_ob_new");

        var row = await RowAsync("lec_ob_new", "bk_ob_new");
        var (_, type, data) = Assert.Single(await ReceivedAsync("bk_ob_new"));
        Assert.Equal(SiteNotificationTypes.MeetingReady.Type, type);
        Assert.Equal(row.GetString(MeetingColumns.JoinUrl), data.GetProperty("joinUrl").GetString());
        Assert.Equal(1, data.GetProperty("bookingVersion").GetInt64());
        Assert.Equal("lec_ob_new", data.GetProperty("lecturerId").GetString());

        // Sent, and left for the calendar converger, which the meeting converger asked after the send, naming the marker.
        var marker = SiteOutboxMarker.Decode(SiteNotificationTypes.MeetingReady, row.GetString("SiteOutboxMeetingReady"));
        Assert.NotNull(marker);
        var calendar = Assert.Single(await CalendarRequestsAsync("bk_ob_new"));
        Assert.Equal(new ConvergeRequest("lec_ob_new", "bk_ob_new") { SentMarkers = [SiteOutbox.Digest(marker)] }, ConvergeRequest.TryParse(calendar.Body.ToString()));
        Assert.Matches("^SiteOutboxMeetingReady:[0-9a-f]{16}$", calendar.Body.ToString().Split('"').Single(p => p.StartsWith("SiteOutbox", StringComparison.Ordinal)));

        // This lecturer has no calendar connected: nothing to write for Google, so the converger empties the marker alone.
        await _services.GetRequiredService<Cafetalk.Integrations.GoogleCalendar.CalendarConvergeHandler>().HandleAsync(calendar.Body.ToString(), calendar.MessageId);

        Assert.Equal(string.Empty, (await RowAsync("lec_ob_new", "bk_ob_new")).GetString("SiteOutboxMeetingReady"));
        Assert.Single(await ReceivedAsync("bk_ob_new"));
    }

    [Fact]
    public async Task CalendarConverge_NamingAMarkerTheRowNoLongerHolds_LeavesTheNewerMarker()
    {
        await IngestAsync(EventTypes.BookingConfirmed, "bk_ob_newer", 1, Tomorrow, "lec_ob_newer");
        await ConvergeAsync(_services, "lec_ob_newer", "bk_ob_newer");
        var calendar = Assert.Single(await CalendarRequestsAsync("bk_ob_newer"));
        // A newer meeting notification was marked after the one the message names (a reschedule's, not sent yet).
        var newer = SiteOutboxMarker.MeetingReady(2, Tomorrow.AddHours(1), "corr-newer");
        await LeaveMarkerAsync("lec_ob_newer", "bk_ob_newer", newer);

        await _services.GetRequiredService<Cafetalk.Integrations.GoogleCalendar.CalendarConvergeHandler>().HandleAsync(calendar.Body.ToString(), calendar.MessageId);

        Assert.Equal(newer.Encode(), (await RowAsync("lec_ob_newer", "bk_ob_newer")).GetString("SiteOutboxMeetingReady"));
    }

    private async Task<List<Azure.Storage.Queues.Models.PeekedMessage>> CalendarRequestsAsync(string bookingId) =>
        [.. (await fixture.Storage.Queue(QueueNames.CalendarConverge).PeekMessagesAsync(32)).Value.Where(m => ConvergeRequest.TryParse(m.Body.ToString())?.BookingId == bookingId)];

    [Fact]
    public async Task Converge_WorkerKilledBetweenTheFactWriteAndTheSend_NextConvergeSendsIt_WithoutCallingZoomAgain()
    {
        await IngestAsync(EventTypes.BookingConfirmed, "bk_ob_kill", 1, Tomorrow, "lec_ob_kill");
        await using (var dying = Worker(KillPolicy.AtSiteNotificationSend()))
        {
            await Assert.ThrowsAsync<SimulatedCrash>(() => ConvergeAsync(dying, "lec_ob_kill", "bk_ob_kill", "msg-kill"));
        }

        var left = await RowAsync("lec_ob_kill", "bk_ob_kill");
        Assert.False(string.IsNullOrEmpty(left.GetString("ZoomMeetingId")));
        Assert.False(string.IsNullOrEmpty(left.GetString("SiteOutboxMeetingReady")));
        Assert.Empty(await ReceivedAsync("bk_ob_kill"));
        var zoomCalls = fixture.Sandbox.Zoom.Requests.Count(r => r.IsApi);

        // Another message's converge leaves the marker to its writer's retry (it may be sent and waiting for the calendar's clear).
        Assert.Equal(MeetingConvergence.UpToDate, (await ConvergeAsync(_services, "lec_ob_kill", "bk_ob_kill", "msg-other")).Outcome);
        Assert.Empty(await ReceivedAsync("bk_ob_kill"));

        var next = await ConvergeAsync(_services, "lec_ob_kill", "bk_ob_kill", "msg-kill");

        Assert.Equal(MeetingConvergence.UpToDate, next.Outcome);
        Assert.Equal(zoomCalls, fixture.Sandbox.Zoom.Requests.Count(r => r.IsApi));
        var (_, type, data) = Assert.Single(await ReceivedAsync("bk_ob_kill"));
        Assert.Equal(SiteNotificationTypes.MeetingReady.Type, type);
        Assert.Equal(left.GetString(MeetingColumns.JoinUrl), data.GetProperty("joinUrl").GetString());
        Assert.Equal(string.Empty, (await RowAsync("lec_ob_kill", "bk_ob_kill")).GetString("SiteOutboxMeetingReady"));
    }

    [Fact]
    public async Task Marker_LeftOnTheRow_HoldsNoJoinLinkNorAnyPersonalValue()
    {
        await IngestAsync(EventTypes.BookingConfirmed, "bk_ob_raw", 1, Tomorrow, "lec_ob_raw");
        await using (var dying = Worker(KillPolicy.AtSiteNotificationSend()))
        {
            await Assert.ThrowsAsync<SimulatedCrash>(() => ConvergeAsync(dying, "lec_ob_raw", "bk_ob_raw"));
        }

        // The raw entity, as anyone who can read the table sees it.
        var raw = await RowAsync("lec_ob_raw", "bk_ob_raw");
        var joinUrl = raw.GetString(MeetingColumns.JoinUrl);
        Assert.False(string.IsNullOrEmpty(joinUrl));
        var markers = raw.Where(c => c.Key.StartsWith(SiteOutbox.ColumnPrefix, StringComparison.Ordinal)).ToList();
        var marker = Assert.Single(markers, c => !string.IsNullOrEmpty(c.Value as string));
        var text = Assert.IsType<string>(marker.Value);
        Assert.DoesNotContain(joinUrl!, text, StringComparison.Ordinal);
        Assert.DoesNotContain("://", text, StringComparison.Ordinal);
        Assert.DoesNotContain("pwd", text, StringComparison.Ordinal);
        foreach (var planted in SampleEvents.PlantedPersonalValues.Concat(["bk_ob_raw", "lec_ob_raw"]))
        {
            Assert.DoesNotContain(planted, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Sweep_MarkerLeftByAKilledWorker_IsSentByTheNightlySweep_AndCounted()
    {
        await IngestAsync(EventTypes.BookingConfirmed, "bk_ob_sweep", 1, Tomorrow, "lec_ob_sweep");
        await ConvergeAsync(_services, "lec_ob_sweep", "bk_ob_sweep");
        await IngestAsync(EventTypes.BookingCancelled, "bk_ob_sweep", 2, Tomorrow, "lec_ob_sweep");
        await using (var dying = Worker(KillPolicy.AtSiteNotificationSend()))
        {
            await Assert.ThrowsAsync<SimulatedCrash>(() => ConvergeAsync(dying, "lec_ob_sweep", "bk_ob_sweep"));
        }

        Assert.True((await RowAsync("lec_ob_sweep", "bk_ob_sweep")).GetBoolean("ZoomDeleted"));
        Assert.DoesNotContain(await ReceivedAsync("bk_ob_sweep"), n => n.Type == SiteNotificationTypes.MeetingRemoved.Type);

        var sent = await _services.GetRequiredService<SiteOutbox>().SendAllPendingAsync();

        Assert.True(sent >= 1);
        var removed = Assert.Single(await ReceivedAsync("bk_ob_sweep"), n => n.Type == SiteNotificationTypes.MeetingRemoved.Type);
        Assert.Equal("cancelled", removed.Data.GetProperty("reason").GetString());
        Assert.Equal(2, removed.Data.GetProperty("bookingVersion").GetInt64());
        Assert.Equal(string.Empty, (await RowAsync("lec_ob_sweep", "bk_ob_sweep")).GetString("SiteOutboxMeetingRemoved"));
        Assert.Equal(0, await _services.GetRequiredService<SiteOutbox>().SendAllPendingAsync());
    }

    [Fact]
    public async Task Converge_WorkerKilledAfterTheSendBeforeTheClear_NextConvergeSendsItAgain_WithTheSameId()
    {
        await IngestAsync(EventTypes.BookingConfirmed, "bk_ob_again", 1, Tomorrow, "lec_ob_again");
        await using (var dying = Worker(KillPolicy.AtTheWriteAfterTheSend()))
        {
            await Assert.ThrowsAsync<SimulatedCrash>(() => ConvergeAsync(dying, "lec_ob_again", "bk_ob_again", "msg-again"));
        }

        var first = Assert.Single(await ReceivedAsync("bk_ob_again"));
        Assert.False(string.IsNullOrEmpty((await RowAsync("lec_ob_again", "bk_ob_again")).GetString("SiteOutboxMeetingReady")));

        await ConvergeAsync(_services, "lec_ob_again", "bk_ob_again", "msg-again");

        var both = await ReceivedAsync("bk_ob_again");
        Assert.Equal(2, both.Count);
        Assert.Equal(first.Id, both[1].Id);
        Assert.Equal(first.Data.GetRawText(), both[1].Data.GetRawText());
    }

    [Fact]
    public async Task Converge_RescheduleThenCancel_SiteHearsEachVersion_Once()
    {
        await IngestAsync(EventTypes.BookingConfirmed, "bk_ob_life", 1, Tomorrow, "lec_ob_life");
        await ConvergeAsync(_services, "lec_ob_life", "bk_ob_life");
        await IngestAsync(EventTypes.BookingRescheduled, "bk_ob_life", 2, Tomorrow.AddHours(3), "lec_ob_life");
        await ConvergeAsync(_services, "lec_ob_life", "bk_ob_life");
        await ConvergeAsync(_services, "lec_ob_life", "bk_ob_life"); // a redelivered converge sends nothing more
        await IngestAsync(EventTypes.BookingCancelled, "bk_ob_life", 3, Tomorrow.AddHours(3), "lec_ob_life");
        await ConvergeAsync(_services, "lec_ob_life", "bk_ob_life");

        var received = await ReceivedAsync("bk_ob_life");
        Assert.Equal(
            [(SiteNotificationTypes.MeetingReady.Type, 1L), (SiteNotificationTypes.MeetingReady.Type, 2L), (SiteNotificationTypes.MeetingRemoved.Type, 3L)],
            received.Select(n => (n.Type, n.Data.GetProperty("bookingVersion").GetInt64())));
        Assert.Equal(Tomorrow.AddHours(3).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), received[1].Data.GetProperty("startsAt").GetString());
        Assert.Equal(3, received.Select(n => n.Id).Distinct().Count());
    }

    /// <summary>A marker as a worker leaves it when it dies right after the fact write that carried it.</summary>
    private async Task LeaveMarkerAsync(string lecturerId, string bookingId, SiteOutboxMarker marker) =>
        await fixture.Storage.Table(TableNames.Bookings).UpdateEntityAsync(SiteOutbox.Mark(new TableEntity(lecturerId, bookingId), [marker]), Azure.ETag.All);

    [Fact]
    public async Task ZoomRepairTimer_AfterItsRepair_SendsAMarkerAKilledRecordingWorkerLeft()
    {
        await IngestAsync(EventTypes.BookingConfirmed, "bk_ob_timer", 1, Tomorrow, "lec_ob_timer");
        await LeaveMarkerAsync("lec_ob_timer", "bk_ob_timer", SiteOutboxMarker.RecordingRemoved(1, "retention", "corr-timer"));

        await new ZoomRepairFunction(_services.GetRequiredService<ZoomDriftRepair>(), _services.GetRequiredService<SiteOutbox>()).Run(new TimerInfo(), CancellationToken.None);

        var removed = Assert.Single(await ReceivedAsync("bk_ob_timer"), n => n.Type == SiteNotificationTypes.RecordingRemoved.Type);
        Assert.Equal(("retention", "corr-timer"), (removed.Data.GetProperty("reason").GetString(), removed.Data.GetProperty("correlationId").GetString()));
        Assert.Equal(string.Empty, (await RowAsync("lec_ob_timer", "bk_ob_timer")).GetString("SiteOutboxRecordingRemoved"));
    }

    [Fact]
    public async Task Nightly_SendsAMarkerLeftBehind_AndReportsIt()
    {
        await IngestAsync(EventTypes.BookingConfirmed, "bk_ob_night", 1, Tomorrow, "lec_ob_night");
        await ConvergeAsync(_services, "lec_ob_night", "bk_ob_night");
        await LeaveMarkerAsync("lec_ob_night", "bk_ob_night", SiteOutboxMarker.RecordingUploadFailed(1, 3, zoomCopyKept: true, "corr-night"));

        var report = await _services.GetRequiredService<NightlyJobs>().RunAsync();

        Assert.True(report.SiteNotificationsSent >= 1, $"the nightly sent {report.SiteNotificationsSent} notifications from the outbox");
        var failed = Assert.Single(await ReceivedAsync("bk_ob_night"), n => n.Type == SiteNotificationTypes.RecordingUploadFailed.Type);
        Assert.Equal(3, failed.Data.GetProperty("attempts").GetInt64());
        Assert.Equal(string.Empty, (await RowAsync("lec_ob_night", "bk_ob_night")).GetString("SiteOutboxRecordingUploadFailed"));
    }

    /// <summary>Kills the worker's storage at one request: that request and every one after it fail.</summary>
    private sealed class KillPolicy(Func<HttpMessage, bool, bool> killsAt) : HttpPipelinePolicy
    {
        private bool _sent;
        private bool _dead;

        /// <summary>The queue send of a site notification: the fact and its marker were written just before.</summary>
        public static KillPolicy AtSiteNotificationSend() => new((message, _) => IsSiteNotificationSend(message));

        /// <summary>The first storage write after a site notification went out: the marker's clear.</summary>
        public static KillPolicy AtTheWriteAfterTheSend() => new((message, sent) => sent && message.Request.Method != RequestMethod.Get);

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Check(message);
            ProcessNext(message, pipeline);
            _sent |= IsSiteNotificationSend(message);
        }

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Check(message);
            await ProcessNextAsync(message, pipeline);
            _sent |= IsSiteNotificationSend(message);
        }

        private void Check(HttpMessage message)
        {
            _dead |= killsAt(message, _sent);
            if (_dead)
            {
                throw new SimulatedCrash(0, $"{message.Request.Method} {message.Request.Uri.Path}");
            }
        }

        private static bool IsSiteNotificationSend(HttpMessage message) =>
            message.Request.Method == RequestMethod.Post && message.Request.Uri.Path.Contains($"/{QueueNames.SiteNotifications}/messages", StringComparison.Ordinal);
    }
}
