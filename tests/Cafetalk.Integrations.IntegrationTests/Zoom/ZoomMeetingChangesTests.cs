using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Zoom;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.IntegrationTests.Zoom;

/// <summary>
/// A meeting of ours deleted or moved in Zoom's web portal: Zoom's signed <c>meeting.deleted</c> / <c>meeting.updated</c>
/// through the webhook handler and <c>zoom-meeting-changes</c>, against Azurite and the Zoom simulator.
/// </summary>
public sealed class ZoomMeetingChangesTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private static readonly DateTimeOffset StartsAt = new DateTimeOffset(TimeProvider.System.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero).AddDays(3).AddHours(9);
    private readonly CapturedLogs _logs = new();
    private ServiceProvider _services = null!;
    private QueueClient _changes = null!;

    private ZoomSimulator Zoom => fixture.Sandbox.Zoom;

    public async Task InitializeAsync()
    {
        _services = fixture.CreateServices(configure: services => services.AddLogging(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace)));
        await fixture.Storage.EnsureProvisionedAsync();
        _changes = fixture.Storage.Queue(QueueNames.ZoomMeetingChanges);
        await _changes.ClearMessagesAsync();
        await fixture.Storage.Queue(QueueNames.SiteNotifications).ClearMessagesAsync();
    }

    public async Task DisposeAsync() => await _services.DisposeAsync();

    /// <summary>A confirmed booking with its meeting made by the converger; returns the meeting id.</summary>
    private async Task<long> BookedAsync(string bookingId, string lecturerId)
    {
        await _services.GetRequiredService<BookingEventIntake>().ProcessAsync(SampleEvents.Booking(EventTypes.BookingConfirmed, bookingId, 1, StartsAt, lecturerId: lecturerId), null);
        var created = await _services.GetRequiredService<MeetingConverger>().ConvergeAsync(lecturerId, bookingId);
        Assert.Equal(MeetingConvergence.Created, created.Outcome);
        return long.Parse(created.MeetingId!, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Zoom's webhook through our front door, then the queued change through its handler, as the host runs them.</summary>
    private async Task<MeetingChangeOutcome?> DeliverAsync(string body)
    {
        var signed = Zoom.SignWebhook(body);
        var accepted = await _services.GetRequiredService<ZoomWebhookHandler>().HandleAsync(Encoding.UTF8.GetBytes(signed.Body), signed.Timestamp, signed.Signature);
        if (accepted.Outcome != ZoomWebhookOutcome.Enqueued)
        {
            return null;
        }

        var message = Assert.Single((await _changes.ReceiveMessagesAsync(32)).Value);
        await _changes.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        Assert.DoesNotContain("@", message.Body.ToString(), StringComparison.Ordinal); // the operator's email stays behind
        Assert.DoesNotContain("portal-edit-secret", message.Body.ToString(), StringComparison.Ordinal); // so do the passcode and join link
        return await _services.GetRequiredService<ZoomMeetingChanges>().HandleAsync(message.Body.ToString(), message.MessageId);
    }

    private async Task<TableEntity> RowAsync(string lecturerId, string bookingId) =>
        (await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>(lecturerId, bookingId)).Value;

    private async Task<List<JsonElement>> ToldAsync(string bookingId) =>
        [.. (await fixture.Storage.Queue(QueueNames.SiteNotifications).PeekMessagesAsync(32)).Value
            .Select(m => JsonDocument.Parse(m.Body.ToString()).RootElement)
            .Where(e => e.GetProperty("type").GetString() == SiteNotificationTypes.ChangedOutside.Type && e.GetProperty("subject").GetString() == bookingId)];

    [Fact]
    public async Task AMeetingDeletedInZoom_IsMadeAgain_WithANewLink_AndTheSiteIsTold_AReplayChangesNothing()
    {
        var meetingId = await BookedAsync("bk_outside_del", "lec_outside_1");
        var oldLink = (await RowAsync("lec_outside_1", "bk_outside_del")).GetString(MeetingColumns.JoinUrl);
        Assert.True(Zoom.RemoveMeeting(meetingId));
        var body = Zoom.MeetingDeletedBody(meetingId, ZoomSimulator.DefaultHostUserId, StartsAt, 50);
        Zoom.ClearRequests();

        var outcome = await DeliverAsync(body);

        Assert.Equal(MeetingChangeOutcome.Restored, outcome);
        var create = Assert.Single(Zoom.Requests, r => r.IsApi);
        Assert.True(create.IsCreate);
        var row = await RowAsync("lec_outside_1", "bk_outside_del");
        var newId = long.Parse(row.GetString(MeetingColumns.MeetingId), System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotEqual(meetingId, newId);
        Assert.Contains(Zoom.Meetings, m => m.Id == newId);
        Assert.NotEqual(oldLink, row.GetString(MeetingColumns.JoinUrl));

        var told = Assert.Single(await ToldAsync("bk_outside_del"));
        var data = told.GetProperty("data");
        Assert.Empty(SiteNotificationSchema.Problems(SiteNotificationTypes.ChangedOutside, data));
        Assert.Equal(("zoom", "deleted", true, 1), (data.GetProperty("provider").GetString(), data.GetProperty("change").GetString(), data.GetProperty("restored").GetBoolean(), data.GetProperty("bookingVersion").GetInt32()));

        // Zoom redelivers the same event: the replay guard acknowledges it and nothing is queued or made again.
        Zoom.ClearRequests();
        Assert.Null(await DeliverAsync(body));
        Assert.DoesNotContain(Zoom.Requests, r => r.IsApi);
    }

    [Fact]
    public async Task AMeetingMovedInZoom_IsPutBackToTheBookingsTime_AndTheSiteIsTold()
    {
        var meetingId = await BookedAsync("bk_outside_move", "lec_outside_2");
        Assert.True(Zoom.EditMeeting(meetingId, StartsAt.AddHours(2), 30));
        Zoom.ClearRequests();

        var outcome = await DeliverAsync(Zoom.MeetingUpdatedBody(meetingId, ZoomSimulator.DefaultHostUserId, StartsAt.AddHours(2), 30, StartsAt, 50));

        Assert.Equal(MeetingChangeOutcome.Restored, outcome);
        var patch = Assert.Single(Zoom.Requests, r => r.IsApi);
        Assert.Equal("PATCH", patch.Method);
        var meeting = Assert.Single(Zoom.Meetings, m => m.Id == meetingId);
        Assert.Equal(StartsAt, DateTimeOffset.Parse(meeting.Body["start_time"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(50, meeting.Body["duration"]!.GetValue<int>());
        var data = Assert.Single(await ToldAsync("bk_outside_move")).GetProperty("data");
        Assert.Equal(("moved", true), (data.GetProperty("change").GetString(), data.GetProperty("restored").GetBoolean()));
    }

    [Fact]
    public async Task TheEchoesOfOurOwnUpdateAndDelete_CostNoZoomRequest_AndTellTheSiteNothing()
    {
        var meetingId = await BookedAsync("bk_outside_echo", "lec_outside_3");
        var intake = _services.GetRequiredService<BookingEventIntake>();
        var converger = _services.GetRequiredService<MeetingConverger>();

        // Our reschedule: Zoom reports the time we sent.
        await intake.ProcessAsync(SampleEvents.Booking(EventTypes.BookingRescheduled, "bk_outside_echo", 2, StartsAt.AddHours(1), lecturerId: "lec_outside_3"), null);
        Assert.Equal(MeetingConvergence.Updated, (await converger.ConvergeAsync("lec_outside_3", "bk_outside_echo")).Outcome);
        Zoom.ClearRequests();
        Assert.Equal(MeetingChangeOutcome.OwnChange, await DeliverAsync(Zoom.MeetingUpdatedBody(meetingId, ZoomSimulator.DefaultHostUserId, StartsAt.AddHours(1), 50, StartsAt, 50)));

        // Our cancel: Zoom reports the delete we made.
        await intake.ProcessAsync(SampleEvents.Booking(EventTypes.BookingCancelled, "bk_outside_echo", 3, StartsAt.AddHours(1), lecturerId: "lec_outside_3"), null);
        Assert.Equal(MeetingConvergence.Deleted, (await converger.ConvergeAsync("lec_outside_3", "bk_outside_echo")).Outcome);
        Zoom.ClearRequests();
        Assert.Equal(MeetingChangeOutcome.OwnChange, await DeliverAsync(Zoom.MeetingDeletedBody(meetingId, ZoomSimulator.DefaultHostUserId, StartsAt.AddHours(1), 50)));

        Assert.DoesNotContain(Zoom.Requests, r => r.IsApi);
        Assert.Empty(await ToldAsync("bk_outside_echo"));
    }

    [Fact]
    public async Task AChangeToAMeetingThatIsNotOurs_IsLeftAlone_AndABadMessageIsPoisonedWithItsReason()
    {
        Zoom.ClearRequests();
        Assert.Equal(MeetingChangeOutcome.NotOurs, await DeliverAsync(Zoom.MeetingDeletedBody(987654321987, ZoomSimulator.DefaultHostUserId, StartsAt, 50)));
        Assert.DoesNotContain(Zoom.Requests, r => r.IsApi);

        Assert.Null(await _services.GetRequiredService<ZoomMeetingChanges>().HandleAsync("{\"event\":\"meeting.deleted\"}", "msg-no-id"));
        var kept = (await fixture.Storage.Queue(QueueNames.BookingEventsPoison).PeekMessagesAsync(32)).Value
            .Select(m => JsonDocument.Parse(m.Body.ToString()).RootElement)
            .Where(e => e.GetProperty("correlationId").GetString() == "msg-no-id")
            .ToList();
        Assert.Equal(QueueNames.ZoomMeetingChanges, Assert.Single(kept).GetProperty("sourceQueue").GetString());
    }
}
