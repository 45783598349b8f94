using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Erasure;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Contracts;
using Cafetalk.Integrations.Sandbox.Google;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.GoogleCalendar;

/// <summary>
/// Google push (issue 19): a watch channel per lesson calendar, notifications as the simulator sends them (headers, no
/// body) verified and turned into one debounced sync, the restore told to the lecturer; renewal, stop on disconnect and
/// erasure; a dropped notification left to the nightly backstop.
/// </summary>
public sealed class CalendarPushTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private static readonly DateTimeOffset Lesson = new DateTimeOffset(TimeProvider.System.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero).AddDays(5).AddHours(10);
    private readonly HttpClient _http = new();
    private CalendarHarness _harness = null!;

    public async Task InitializeAsync()
    {
        // No debounce delay here: the one-sync-per-burst rule is the table's, not the delay's.
        _harness = await CalendarHarness.StartAsync(fixture, services => services.Configure<GoogleCalendarOptions>(o => o.NotificationDebounce = TimeSpan.Zero), push: true);
        await _harness.ClearQueuesAsync();
        await Changes.ClearMessagesAsync();
    }

    public async Task DisposeAsync()
    {
        Google.Faults.DisableNotificationFaults();
        Google.MaxChannelLifetime = TimeSpan.FromDays(7);
        _http.Dispose();
        await _harness.DisposeAsync();
    }

    private GoogleSimulator Google => _harness.Google;

    private Azure.Storage.Queues.QueueClient Changes => fixture.Storage.Queue(QueueNames.CalendarChanges);

    private CalendarConnections Connections => _harness.Services.GetRequiredService<CalendarConnections>();

    private string EventId(string bookingId) => _harness.Services.GetRequiredService<CalendarEventIds>().For(bookingId);

    private Uri NotificationUrl => new(_harness.Server.BaseUrl, "api/" + CalendarNotifications.Route);

    [Fact]
    public async Task Connect_OpensOneWatchChannel_OnTheLessonCalendar_TokenSealedInTheTable_AndTheSyncMessageQueuesNothing()
    {
        var calendar = await ConnectAsync("lec_push_open");

        var channel = Assert.Single(Google.Channels, c => c.CalendarId == calendar);
        Assert.Equal(NotificationUrl, channel.Address);
        Assert.NotNull(channel.Token);
        var row = (await fixture.Storage.Table(TableNames.CalendarWatchChannels).GetEntityAsync<TableEntity>("channel", channel.Id)).Value;
        Assert.Equal("lec_push_open", row.GetString("LecturerId"));
        Assert.DoesNotContain(channel.Token!, row.GetString("Token"), StringComparison.Ordinal);
        var sync = Assert.Single(Google.Notifications, n => n.ChannelId == channel.Id);
        Assert.Equal(("sync", 1L, 200), (sync.State, sync.MessageNumber, sync.Status));
        Assert.Null((await Changes.PeekMessageAsync()).Value);
        Assert.Empty(ContractViolations.TakeFrom(Google.BaseAddress));
    }

    [Fact]
    public async Task WrongTokenOrUnknownChannel_Answer401Alike_MissingHeaders400_AndNothingIsQueued()
    {
        var calendar = await ConnectAsync("lec_push_token");
        var channel = Assert.Single(Google.Channels, c => c.CalendarId == calendar);

        var wrongToken = await NotifyAsync(channel.Id, "not-the-token", channel.ResourceId, "exists");
        var unknown = await NotifyAsync("0123456789abcdef0123456789abcdef", channel.Token, channel.ResourceId, "exists");
        var wrongResource = await NotifyAsync(channel.Id, channel.Token, "res-other", "exists");
        var noState = await NotifyAsync(channel.Id, channel.Token, channel.ResourceId, null);

        Assert.Equal(HttpStatusCode.Unauthorized, wrongToken.Status);
        Assert.Equal(wrongToken, unknown);
        Assert.Equal(wrongToken, wrongResource);
        Assert.Contains("application/problem+json", wrongToken.ContentType, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, noState.Status);
        Assert.Null((await Changes.PeekMessageAsync()).Value);
        Assert.DoesNotContain(LogCapture.Snapshot(), l => l.Text.Contains(channel.Token!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task HandDeleteInGoogle_TheNotificationQueuesTheSync_WhichRestoresTheEvent_AndTellsTheLecturer()
    {
        const string lecturer = "lec_push_delete";
        var calendar = await ConnectWithLessonAsync(lecturer, "bk_push_delete");

        Google.DeleteByHand(calendar, EventId("bk_push_delete"));
        await Google.WhenNotificationsSentAsync();

        var message = Assert.Single((await Changes.PeekMessagesAsync(32)).Value);
        Assert.Equal($$"""{"lecturerId":"{{lecturer}}"}""", message.Body.ToString());
        var reports = await DrainChangesAsync();
        // Our restore is itself a change Google notifies: one more listing that finds nothing to put back.
        Assert.Equal([1, 0], reports.Select(r => r!.Restored));
        Assert.False(Google.EventsOf(calendar).Single(e => e.Id == EventId("bk_push_delete")).Cancelled);
        var told = Assert.Single(await SiteNoticesAsync("com.cafetalk.booking.changed-outside"));
        var data = told.GetProperty("data");
        Assert.Equal(("bk_push_delete", lecturer, "google", "deleted", true),
            (data.GetProperty("bookingId").GetString(), data.GetProperty("lecturerId").GetString(), data.GetProperty("provider").GetString(), data.GetProperty("change").GetString(), data.GetProperty("restored").GetBoolean()));
        Assert.Empty(ContractViolations.TakeFrom(Google.BaseAddress));
    }

    [Fact]
    public async Task ManyNotificationsBeforeTheSyncStarts_QueueOneSync_WhichCostsOneListing()
    {
        const string lecturer = "lec_push_burst";
        var calendar = await ConnectWithLessonAsync(lecturer, "bk_push_burst");
        for (var i = 0; i < 5; i++)
        {
            Google.EditByHand(calendar, EventId("bk_push_burst"), e => e["description"] = $"typed by hand {i}");
        }

        await Google.WhenNotificationsSentAsync();
        Assert.Equal(5, Google.Notifications.Count(n => n.State == "exists" && n.Status == 200 && n.ChannelId == Google.Channels.Single(c => c.CalendarId == calendar).Id) - 1);
        Assert.Single((await Changes.PeekMessagesAsync(32)).Value);
        Google.ClearRequests();

        var reports = await DrainChangesAsync();

        // Five notifications, one sync (one listing, one restore); then the echo of our own restore, one listing more.
        Assert.Equal([(1, 1), (1, 0)], reports.Select(r => (r!.ListRequests, r.Restored)));
        Assert.Equal(2, Google.Requests.Count(r => r.Method == "GET" && r.Path.EndsWith("/events", StringComparison.Ordinal)));
        Assert.Single(Google.Requests, r => r.Method == "PUT");
    }

    [Fact]
    public async Task RenewalTimer_ReplacesAChannelEndingSoon_NewOneFirstThenTheOldStopped_AndBackfillsACalendarWithout()
    {
        Google.MaxChannelLifetime = TimeSpan.FromHours(1); // less than ChannelRenewBefore (a day): due at once
        var calendar = await ConnectAsync("lec_push_renew");
        var old = Assert.Single(Google.Channels, c => c.CalendarId == calendar);
        Google.MaxChannelLifetime = TimeSpan.FromDays(7);
        Google.ClearRequests();
        var watches = _harness.Services.GetRequiredService<CalendarWatches>();

        var renewed = await watches.RenewAsync();

        var now = Assert.Single(Google.Channels, c => c.CalendarId == calendar);
        Assert.NotEqual(old.Id, now.Id);
        Assert.True(renewed.Opened >= 1 && renewed.Stopped >= 1);
        var order = Google.Requests.Where(r => r.Path.EndsWith("/events/watch", StringComparison.Ordinal) && r.Path.Contains(calendar, StringComparison.Ordinal) || r.Path == "/calendar/v3/channels/stop" && r.Body.Contains(old.Id, StringComparison.Ordinal))
            .Select(r => r.Path.EndsWith("/watch", StringComparison.Ordinal) ? "watch" : "stop").ToList();
        Assert.Equal(["watch", "stop"], order);
        Assert.Null(await _harness.Services.GetRequiredService<CalendarWatchChannels>().FindAsync(old.Id));

        // A second pass finds nothing due; a calendar connected before push (no channel row) gets one.
        Google.ClearRequests();
        await fixture.Storage.Table(TableNames.CalendarWatchChannels).DeleteEntityAsync("channel", now.Id);
        var backfill = await watches.RenewAsync();
        Assert.Equal(1, Google.Requests.Count(r => r.Path.EndsWith("/events/watch", StringComparison.Ordinal) && r.Path.Contains(calendar, StringComparison.Ordinal)));
        Assert.True(backfill.Opened >= 1);
        Google.ClearRequests();
        await watches.RenewAsync();
        Assert.DoesNotContain(Google.Requests, r => r.Path.EndsWith("/events/watch", StringComparison.Ordinal) && r.Path.Contains(calendar, StringComparison.Ordinal));
        Assert.Empty(ContractViolations.TakeFrom(Google.BaseAddress));
    }

    [Fact]
    public async Task Disconnect_StopsTheChannelBeforeTheCalendarIsDeleted_AndForgetsIt()
    {
        var calendar = await ConnectAsync("lec_push_disc");
        var channel = Assert.Single(Google.Channels, c => c.CalendarId == calendar);
        Google.ClearRequests();

        using var response = await _harness.DisconnectAsync("lec_push_disc");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(Google.Channels, c => c.Id == channel.Id);
        var paths = Google.Requests.Where(r => r.IsCalendarApi).Select(r => (r.Method, r.Path, r.Status)).ToList();
        Assert.Equal([("POST", "/calendar/v3/channels/stop", 204), ("DELETE", $"/calendar/v3/calendars/{calendar}", 204)], paths);
        Assert.Empty(await _harness.Services.GetRequiredService<CalendarWatchChannels>().ListForAsync("lec_push_disc"));
    }

    [Fact]
    public async Task EraseLecturer_StopsTheChannel_AndLeavesNoChannelRow()
    {
        var calendar = await ConnectAsync("lec_push_erase");
        var channel = Assert.Single(Google.Channels, c => c.CalendarId == calendar);

        await _harness.Services.GetRequiredService<MemberErasure>().EraseAsync("lec_push_erase", "era_push");

        Assert.DoesNotContain(Google.Channels, c => c.Id == channel.Id);
        Assert.Single(Google.Requests, r => r.Path == "/calendar/v3/channels/stop" && r.Status == 204);
        Assert.Null(await _harness.Services.GetRequiredService<CalendarWatchChannels>().FindAsync(channel.Id));
        // A notification still in flight for the stopped channel is refused, and queues nothing.
        Assert.Equal(HttpStatusCode.Unauthorized, (await NotifyAsync(channel.Id, channel.Token, channel.ResourceId, "exists")).Status);
        Assert.Null((await Changes.PeekMessageAsync()).Value);
    }

    [Fact]
    public async Task DroppedNotification_LeavesTheChange_TheNightlyBackstopRestoresIt()
    {
        const string lecturer = "lec_push_drop";
        var calendar = await ConnectWithLessonAsync(lecturer, "bk_push_drop");
        Google.Faults.EnableNotificationFaults(seed: 7, dropRate: 1.0);

        Google.DeleteByHand(calendar, EventId("bk_push_drop"));
        await Google.WhenNotificationsSentAsync();

        Assert.Equal(NotificationFault.Drop, Google.Notifications[^1].Fault);
        Assert.Null((await Changes.PeekMessageAsync()).Value);
        Assert.True(Google.EventsOf(calendar).Single(e => e.Id == EventId("bk_push_drop")).Cancelled);

        var nightly = await _harness.Services.GetRequiredService<CalendarNightlySync>().RunAsync();

        Assert.True(nightly.Restored >= 1);
        Assert.False(Google.EventsOf(calendar).Single(e => e.Id == EventId("bk_push_drop")).Cancelled);
    }

    private async Task<string> ConnectAsync(string lecturer)
    {
        var (response, _) = await _harness.ConnectAsync(lecturer);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Google.WhenNotificationsSentAsync();
        return (await Connections.FindAsync(lecturer))!.CalendarId;
    }

    /// <summary>Connected, one lesson in the calendar, the sync token taken and our own insert's notification worked off.</summary>
    private async Task<string> ConnectWithLessonAsync(string lecturer, string bookingId)
    {
        var calendar = await ConnectAsync(lecturer);
        await _harness.IngestAsync(EventTypes.BookingConfirmed, bookingId, 1, Lesson, lecturer);
        Assert.Equal(EventConvergence.Created, (await _harness.Services.GetRequiredService<CalendarEventConverger>().ConvergeAsync(lecturer, bookingId)).Outcome);
        await Google.WhenNotificationsSentAsync();
        await DrainChangesAsync();
        await Google.WhenNotificationsSentAsync();
        await DrainChangesAsync();
        await _harness.ClearQueuesAsync();
        return calendar;
    }

    private async Task<List<CalendarSyncReport?>> DrainChangesAsync()
    {
        var handler = _harness.Services.GetRequiredService<CalendarChangeSync>();
        var reports = new List<CalendarSyncReport?>();
        while ((await Changes.ReceiveMessagesAsync(32)).Value is { Length: > 0 } batch)
        {
            foreach (var message in batch)
            {
                reports.Add(await handler.HandleAsync(message.Body.ToString(), message.MessageId));
                await Changes.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }

        return reports;
    }

    private async Task<List<JsonElement>> SiteNoticesAsync(string type) =>
        [.. (await fixture.Storage.Queue(QueueNames.SiteNotifications).PeekMessagesAsync(32)).Value
            .Select(m => JsonDocument.Parse(m.Body.ToString()).RootElement.Clone())
            .Where(e => e.GetProperty("type").GetString() == type)];

    /// <summary>A notification as Google sends it: headers only, no body.</summary>
    private async Task<(HttpStatusCode Status, string? ContentType, string Body)> NotifyAsync(string channelId, string? token, string resourceId, string? state)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, NotificationUrl) { Content = new ByteArrayContent([]) };
        request.Headers.Add(CalendarNotification.ChannelIdHeader, channelId);
        request.Headers.Add(CalendarNotification.ResourceIdHeader, resourceId);
        request.Headers.Add(CalendarNotification.MessageNumberHeader, "2");
        if (token is not null)
        {
            request.Headers.Add(CalendarNotification.ChannelTokenHeader, token);
        }

        if (state is not null)
        {
            request.Headers.Add(CalendarNotification.ResourceStateHeader, state);
        }

        using var response = await _http.SendAsync(request);
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
    }
}
