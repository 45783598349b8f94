using System.Net;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Google;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;
using Azure.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.IntegrationTests.GoogleCalendar;

/// <summary>The event converger and the nightly sync against Azurite and the Google simulator: requests on the wire, rows, ledger.</summary>
public sealed partial class CalendarEventConvergerTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private static readonly DateTimeOffset Lesson = new DateTimeOffset(TimeProvider.System.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero).AddDays(3).AddHours(10);
    private readonly CapturedLogs _logs = new();
    private readonly BookingRowWrites _bookingWrites = new();
    private CalendarHarness _harness = null!;

    public async Task InitializeAsync()
    {
        _harness = await CalendarHarness.StartAsync(fixture, services =>
        {
            services.AddLogging(l => l.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));
            // The same account, with the booking-row writes counted while a test asks.
            services.Replace(ServiceDescriptor.Singleton(StorageAccount.FromConnectionString(fixture.Sandbox.StorageConnectionString).WithRequestPolicy(_bookingWrites)));
        });
        await _harness.ClearQueuesAsync();
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    private GoogleSimulator Google => _harness.Google;

    private CalendarEventConverger Converger => _harness.Services.GetRequiredService<CalendarEventConverger>();

    private string EventId(string bookingId) => _harness.Services.GetRequiredService<CalendarEventIds>().For(bookingId);

    private async Task<string> ConnectAsync(string lecturer)
    {
        var (response, _) = await _harness.ConnectAsync(lecturer);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await _harness.ClearQueuesAsync();
        return (await _harness.Services.GetRequiredService<CalendarConnections>().FindAsync(lecturer))!.CalendarId;
    }

    private List<RecordedGoogleRequest> EventCalls() => [.. Google.Requests.Where(r => r.IsEventCall)];

    /// <summary>Runs the zoom-converge handler over every waiting message of <paramref name="bookingId"/>, as the host would.</summary>
    private async Task DrainZoomQueueAsync(string bookingId)
    {
        var queue = fixture.Storage.Queue(QueueNames.ZoomConverge);
        var handler = _harness.Services.GetRequiredService<ZoomConvergeHandler>();
        foreach (var message in (await queue.ReceiveMessagesAsync(32)).Value.Where(m => ConvergeRequest.TryParse(m.Body.ToString())?.BookingId == bookingId))
        {
            await handler.HandleAsync(message.Body.ToString(), message.MessageId);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        }
    }

    [Fact]
    public async Task RescheduleAndCancel_TheCalendarIsAskedAfterTheMeetingNotification_AndItsOneFactWriteEmptiesTheMarker()
    {
        const string lecturer = "lec_handoff";
        var calendar = await ConnectAsync(lecturer);
        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_handoff", 1, Lesson, lecturer, "stu_handoff");
        await DrainZoomQueueAsync("bk_handoff");
        Assert.Equal([EventConvergence.Created], (await _harness.DrainCalendarQueueAsync()).Select(r => r!.Outcome));
        var rows = fixture.Storage.Table(TableNames.Bookings);
        Assert.Equal(string.Empty, (await rows.GetEntityAsync<TableEntity>(lecturer, "bk_handoff")).Value.GetString("SiteOutboxMeetingReady"));

        foreach (var (type, version, outcome, column) in new[]
        {
            (EventTypes.BookingRescheduled, 2L, EventConvergence.Updated, "SiteOutboxMeetingReady"),
            (EventTypes.BookingCancelled, 3L, EventConvergence.Deleted, "SiteOutboxMeetingRemoved"),
        })
        {
            await _harness.IngestAsync(type, "bk_handoff", version, Lesson.AddHours(2), lecturer, "stu_handoff");
            // Intake asks the meeting converger alone; it asks the calendar once its notification is out.
            Assert.Empty((await fixture.Storage.Queue(QueueNames.CalendarConverge).PeekMessagesAsync(32)).Value);
            await DrainZoomQueueAsync("bk_handoff");
            var marked = (await rows.GetEntityAsync<TableEntity>(lecturer, "bk_handoff")).Value.GetString(column);
            Assert.False(string.IsNullOrEmpty(marked));

            _bookingWrites.Start();
            var converged = await _harness.DrainCalendarQueueAsync();
            var writes = _bookingWrites.Stop();

            Assert.Equal([outcome], converged.Select(r => r!.Outcome));
            // One write: the event's facts and the emptied marker in the same merge.
            Assert.Equal(1, writes);
            Assert.Equal(string.Empty, (await rows.GetEntityAsync<TableEntity>(lecturer, "bk_handoff")).Value.GetString(column));
        }

        Assert.True(Assert.Single(Google.EventsOf(calendar)).Cancelled);
        var heard = (await fixture.Storage.Queue(QueueNames.SiteNotifications).PeekMessagesAsync(32)).Value
            .Select(m => System.Text.Json.JsonDocument.Parse(m.Body.ToString()).RootElement)
            .Where(e => e.GetProperty("subject").GetString() == "bk_handoff")
            .Select(e => (e.GetProperty("type").GetString(), e.GetProperty("data").GetProperty("bookingVersion").GetInt64()));
        Assert.Equal([(SiteNotificationTypes.MeetingReady.Type, 1L), (SiteNotificationTypes.MeetingReady.Type, 2L), (SiteNotificationTypes.MeetingRemoved.Type, 3L)], heard);
    }

    [Fact]
    public async Task GoogleFailing_TheCalendarConvergeThrows_AndStillEmptiesTheMarkerItWasHanded()
    {
        const string lecturer = "lec_handfail";
        await ConnectAsync(lecturer);
        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_handfail", 1, Lesson, lecturer, "stu_handfail");
        await DrainZoomQueueAsync("bk_handfail");
        var rows = fixture.Storage.Table(TableNames.Bookings);
        Assert.False(string.IsNullOrEmpty((await rows.GetEntityAsync<TableEntity>(lecturer, "bk_handfail")).Value.GetString("SiteOutboxMeetingReady")));
        var queue = fixture.Storage.Queue(QueueNames.CalendarConverge);
        var message = Assert.Single((await queue.ReceiveMessagesAsync(32)).Value);
        // Every attempt of the insert is refused (the first try and GoogleCalendarOptions.MaxRetryAttempts retries).
        Google.ThrottleNext([.. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 1 + new GoogleCalendarOptions().MaxRetryAttempts)]);

        await Assert.ThrowsAnyAsync<Exception>(() => _harness.Services.GetRequiredService<CalendarConvergeHandler>().HandleAsync(message.Body.ToString(), message.MessageId));

        // The site heard it once; with the marker left, the nightly sweep would have sent it again while the message waits.
        Assert.Equal(string.Empty, (await rows.GetEntityAsync<TableEntity>(lecturer, "bk_handfail")).Value.GetString("SiteOutboxMeetingReady"));
        Assert.Empty(Google.EventsOf((await _harness.Services.GetRequiredService<CalendarConnections>().FindAsync(lecturer))!.CalendarId));
        Assert.Single(await ReceivedMeetingReadyAsync("bk_handfail"));
        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
    }

    private async Task<List<string>> ReceivedMeetingReadyAsync(string bookingId) =>
        [.. (await fixture.Storage.Queue(QueueNames.SiteNotifications).PeekMessagesAsync(32)).Value
            .Select(m => System.Text.Json.JsonDocument.Parse(m.Body.ToString()).RootElement)
            .Where(e => e.GetProperty("subject").GetString() == bookingId && e.GetProperty("type").GetString() == SiteNotificationTypes.MeetingReady.Type)
            .Select(e => e.GetProperty("id").GetString()!)];

    /// <summary>Counts writes to table <c>Bookings</c> between <see cref="Start"/> and <see cref="Stop"/>.</summary>
    private sealed class BookingRowWrites : RequestObserver
    {
        private int _count;
        private volatile bool _on;

        public void Start() => (_count, _on) = (0, true);

        public int Stop()
        {
            _on = false;
            return _count;
        }

        protected override void Observe(HttpMessage message)
        {
            if (_on && message.Request.Method != RequestMethod.Get && message.Request.Uri.Path.Contains("/Bookings", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _count);
            }
        }
    }

    [Fact]
    public async Task Lifecycle_ConfirmRedeliverRescheduleCancel_IsOneInsertOneUpdateOneDelete_WithAMinimalPrivateEvent()
    {
        const string lecturer = "lec_life";
        var calendar = await ConnectAsync(lecturer);
        Google.ClearRequests();

        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_life", 1, Lesson, lecturer, "stu_life");
        var created = await Converger.ConvergeAsync(lecturer, "bk_life");
        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_life", 1, Lesson, lecturer, "stu_life");
        var again = await Converger.ConvergeAsync(lecturer, "bk_life");
        var inserted = Assert.Single(Google.EventsOf(calendar));
        await _harness.IngestAsync(EventTypes.BookingRescheduled, "bk_life", 2, Lesson.AddHours(2), lecturer, "stu_life");
        var moved = await Converger.ConvergeAsync(lecturer, "bk_life");
        await _harness.IngestAsync(EventTypes.BookingCancelled, "bk_life", 3, Lesson.AddHours(2), lecturer, "stu_life");
        var deleted = await Converger.ConvergeAsync(lecturer, "bk_life");
        var afterDelete = await Converger.ConvergeAsync(lecturer, "bk_life");

        Assert.Equal([EventConvergence.Created, EventConvergence.UpToDate, EventConvergence.Updated, EventConvergence.Deleted, EventConvergence.UpToDate],
            new[] { created, again, moved, deleted, afterDelete }.Select(r => r.Outcome));
        Assert.Equal(["POST", "PUT", "DELETE"], EventCalls().Select(r => r.Method));
        Assert.All(EventCalls(), r => Assert.Equal("?sendUpdates=none", r.Query));
        Assert.Matches(EventIdRule(), inserted.Id);
        Assert.DoesNotContain("bk_life", inserted.Id, StringComparison.Ordinal);
        Assert.Equal(["id", "status", "summary", "start", "end", "visibility"], inserted.Body.Select(p => p.Key));
        Assert.Equal("Cafetalk lesson", inserted.Body["summary"]!.GetValue<string>());
        Assert.Equal("private", inserted.Body["visibility"]!.GetValue<string>());
        Assert.Equal(CalendarEventPayload.Local(Lesson, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin")), inserted.Body["start"]!["dateTime"]!.GetValue<string>());
        Assert.Equal("Europe/Berlin", inserted.Body["start"]!["timeZone"]!.GetValue<string>());
        Assert.True(Assert.Single(Google.EventsOf(calendar)).Cancelled);
        foreach (var planted in SampleEvents.PlantedPersonalValues.Concat(["stu_life", lecturer, "bk_life"]))
        {
            Assert.DoesNotContain(Google.Requests, r => r.Body.Contains(planted, StringComparison.Ordinal) || r.Path.Contains(planted, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task NewBooking_TheCalendarHearsOfItOnceTheMeetingExists_SoGoogleGetsOneInsertWithTheLink_AndAnEarlyAskWaitsAtMostTheWait()
    {
        // Production's order: intake asks the meeting converger alone; it asks the calendar converger once the link exists.
        await using var harness = await CalendarHarness.StartAsync(fixture, joinLinkWait: TimeSpan.FromSeconds(2));
        var (response, _) = await harness.ConnectAsync("lec_wait");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await harness.ClearQueuesAsync();
        var calendar = (await harness.Services.GetRequiredService<CalendarConnections>().FindAsync("lec_wait"))!.CalendarId;
        Google.ClearRequests();

        await harness.IngestAsync(EventTypes.BookingConfirmed, "bk_wait", 1, Lesson, "lec_wait");
        var early = await harness.DrainCalendarQueueAsync();
        await harness.Services.GetRequiredService<MeetingConverger>().ConvergeAsync("lec_wait", "bk_wait");
        var afterZoom = await harness.DrainCalendarQueueAsync();

        Assert.Empty(early);
        Assert.Equal(EventConvergence.Created, Assert.Single(afterZoom)!.Outcome);
        var insert = Assert.Single(Google.Requests, r => r.IsEventCall);
        Assert.Equal("POST", insert.Method);
        Assert.StartsWith(fixture.Sandbox.Zoom.BaseAddress.ToString(), Assert.Single(Google.EventsOf(calendar)).Body["description"]!.GetValue<string>(), StringComparison.Ordinal);

        // A reschedule overtakes the create and Zoom fails: intake asked the meeting converger alone (the calendar after it),
        // so Zoom's trouble asks the calendar meanwhile; the calendar converger waits for the link, and once the wait is
        // over it inserts without one, once.
        await harness.IngestAsync(EventTypes.BookingConfirmed, "bk_nozoom", 1, Lesson.AddHours(1), "lec_wait");
        await harness.IngestAsync(EventTypes.BookingRescheduled, "bk_nozoom", 2, Lesson.AddHours(2), "lec_wait");
        Assert.Empty(await harness.DrainCalendarQueueAsync());
        fixture.Sandbox.Zoom.FailNext(10_000);
        try
        {
            var zoomQueue = fixture.Storage.Queue(QueueNames.ZoomConverge);
            var handler = harness.Services.GetRequiredService<ZoomConvergeHandler>();
            // The reschedule's message (the confirm's would find the create it started and wait for its lease).
            var messages = (await zoomQueue.ReceiveMessagesAsync(32)).Value.Where(m => ConvergeRequest.TryParse(m.Body.ToString())?.BookingId == "bk_nozoom").ToList();
            var rescheduled = Assert.Single(messages, m => ConvergeRequest.TryParse(m.Body.ToString())!.AsksAfter(QueueNames.CalendarConverge));
            await Assert.ThrowsAnyAsync<Exception>(() => handler.HandleAsync(rescheduled.Body.ToString(), rescheduled.MessageId));
            foreach (var message in messages)
            {
                await zoomQueue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }
        finally
        {
            fixture.Sandbox.Zoom.FailNext(0);
        }

        Assert.Equal(EventConvergence.AwaitingJoinLink, Assert.Single(await harness.DrainCalendarQueueAsync())!.Outcome);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var late = await harness.DrainCalendarQueueAsync();

        Assert.Equal(EventConvergence.Created, Assert.Single(late)!.Outcome);
        Assert.Equal(2, Google.EventsOf(calendar).Count);
        Assert.Equal(["POST", "POST"], Google.Requests.Where(r => r.IsEventCall).Select(r => r.Method));
    }

    [Fact]
    public async Task FourCopiesOfANewBookingsMessageAtOnce_OneInsert_No409_NoUpdate()
    {
        const string lecturer = "lec_race";
        var calendar = await ConnectAsync(lecturer);
        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_race", 1, Lesson, lecturer);
        Google.ClearRequests();

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Converger.ConvergeAsync(lecturer, "bk_race"))));

        Assert.Equal(("POST", 200), (Assert.Single(EventCalls()).Method, Assert.Single(EventCalls()).Status));
        Assert.Single(results, r => r.Outcome == EventConvergence.Created);
        Assert.All(results.Where(r => r.Outcome != EventConvergence.Created), r => Assert.Contains(r.Outcome, new[] { EventConvergence.InsertInProgress, EventConvergence.UpToDate }));
        Assert.Single(Google.EventsOf(calendar));
    }

    [Fact]
    public async Task ZoomJoinLink_IsTheOnlyDescription_AndArrivingLaterUpdatesTheEvent_NeverLogged()
    {
        const string lecturer = "lec_join";
        var calendar = await ConnectAsync(lecturer);
        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_join", 1, Lesson, lecturer);
        await Converger.ConvergeAsync(lecturer, "bk_join");
        Assert.Null(Assert.Single(Google.EventsOf(calendar)).Body["description"]);
        await _harness.ClearQueuesAsync();

        await _harness.Services.GetRequiredService<MeetingConverger>().ConvergeAsync(lecturer, "bk_join");
        var results = await _harness.DrainCalendarQueueAsync();

        var joinUrl = (await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>(lecturer, "bk_join")).Value.GetString(ZoomMeetingColumns.JoinUrl);
        Assert.StartsWith(fixture.Sandbox.Zoom.BaseAddress.ToString(), joinUrl, StringComparison.Ordinal);
        Assert.Equal(EventConvergence.Updated, Assert.Single(results)!.Outcome);
        Assert.Equal(joinUrl, Assert.Single(Google.EventsOf(calendar)).Body["description"]!.GetValue<string>());
        Assert.DoesNotContain(_logs.Lines, l => l.Contains(joinUrl!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task InsertAnswered409_AfterALostWriteBack_UpdatesTheExistingEvent_NeverDuplicates()
    {
        const string lecturer = "lec_dup";
        var calendar = await ConnectAsync(lecturer);
        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_dup", 1, Lesson, lecturer);
        await Converger.ConvergeAsync(lecturer, "bk_dup");
        var table = fixture.Storage.Table(TableNames.Bookings);
        var row = (await table.GetEntityAsync<TableEntity>(lecturer, "bk_dup")).Value;
        await table.UpdateEntityAsync(new TableEntity(lecturer, "bk_dup") { ["GoogleEventId"] = string.Empty }, row.ETag, TableUpdateMode.Merge);
        Google.ClearRequests();

        var result = await Converger.ConvergeAsync(lecturer, "bk_dup");

        Assert.Equal(EventConvergence.Updated, result.Outcome);
        Assert.Equal([("POST", 409), ("PUT", 200)], EventCalls().Select(r => (r.Method, r.Status)));
        Assert.Single(Google.EventsOf(calendar));
    }

    [Fact]
    public async Task CancelAfterTheLecturerDeletedTheEventByHand_410CountsAsDone()
    {
        const string lecturer = "lec_gone";
        var calendar = await ConnectAsync(lecturer);
        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_gone", 1, Lesson, lecturer);
        await Converger.ConvergeAsync(lecturer, "bk_gone");
        Google.DeleteByHand(calendar, EventId("bk_gone"));
        Google.ClearRequests();

        await _harness.IngestAsync(EventTypes.BookingCancelled, "bk_gone", 2, Lesson, lecturer);
        var result = await Converger.ConvergeAsync(lecturer, "bk_gone");

        Assert.Equal(EventConvergence.Deleted, result.Outcome);
        Assert.Equal([("DELETE", 410)], EventCalls().Select(r => (r.Method, r.Status)));
        Assert.True((await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>(lecturer, "bk_gone")).Value.GetBoolean("GoogleEventDeleted"));
    }

    [Fact]
    public async Task RateLimited403And429_AreBackedOffAndRetried_TheEventIsInsertedOnce()
    {
        const string lecturer = "lec_throttle";
        var calendar = await ConnectAsync(lecturer);
        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_throttle", 1, Lesson, lecturer);
        Google.ClearRequests();
        Google.ThrottleNext(HttpStatusCode.Forbidden, HttpStatusCode.TooManyRequests, HttpStatusCode.Forbidden);

        var result = await Converger.ConvergeAsync(lecturer, "bk_throttle");

        Assert.Equal(EventConvergence.Created, result.Outcome);
        Assert.Equal([403, 429, 403, 200], EventCalls().Select(r => r.Status));
        Assert.Single(Google.EventsOf(calendar));
    }

    [Fact]
    public async Task PerUserBudgetSpent_Answers403RateLimitExceeded_RetriedWithBackoffThenGivenUp()
    {
        const string lecturer = "lec_budget";
        await ConnectAsync(lecturer);
        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_budget", 1, Lesson, lecturer);
        Google.ClearRequests();
        Google.RequestsPerMinutePerUser = 0;
        try
        {
            var refused = await Assert.ThrowsAsync<CalendarApiException>(() => Converger.ConvergeAsync(lecturer, "bk_budget"));

            Assert.Equal((HttpStatusCode.Forbidden, "rateLimitExceeded"), (refused.Status, refused.Reason));
            var options = _harness.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<GoogleCalendarOptions>>().Value;
            Assert.Equal(options.MaxRetryAttempts + 1, EventCalls().Count(r => r.Status == 403));
        }
        finally
        {
            Google.RequestsPerMinutePerUser = 600;
        }
    }

    [Fact]
    public async Task InvalidGrant_MarksRevoked_TellsTheSiteOnce_AndNeverCallsGoogleAgain()
    {
        const string lecturer = "lec_revoked";
        await ConnectAsync(lecturer);
        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_rev_1", 1, Lesson, lecturer);
        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_rev_2", 1, Lesson.AddDays(1), lecturer);
        await _harness.ClearQueuesAsync();
        Google.RevokeAllGrants();
        _harness.Services.GetRequiredService<GoogleAuthorization>().Forget(lecturer);
        Google.ClearRequests();

        var first = await Converger.ConvergeAsync(lecturer, "bk_rev_1");
        var second = await Converger.ConvergeAsync(lecturer, "bk_rev_2");
        var third = await Converger.ConvergeAsync(lecturer, "bk_rev_1");

        Assert.Equal([EventConvergence.Revoked, EventConvergence.NotConnected, EventConvergence.NotConnected], new[] { first, second, third }.Select(r => r.Outcome));
        var refresh = Assert.Single(Google.Requests);
        Assert.Equal(("/token", 400), (refresh.Path, refresh.Status));
        Assert.Equal(ConnectionStatus.Revoked, (await _harness.Services.GetRequiredService<CalendarConnections>().FindAsync(lecturer))!.Status);
        var notice = Assert.Single((await fixture.Storage.Queue(QueueNames.SiteNotifications).PeekMessagesAsync(10)).Value).Body.ToString();
        Assert.Contains("\"com.cafetalk.calendar.connection-revoked\"", notice, StringComparison.Ordinal);
        Assert.Contains($"\"lecturerId\":\"{lecturer}\"", notice, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EventInsert_IsOnTheLedgerForBothParties_FieldNamesOnly()
    {
        const string lecturer = "lec_ledger_cal";
        await ConnectAsync(lecturer);
        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_ledger_cal", 1, Lesson, lecturer, "stu_ledger_cal");

        await Converger.ConvergeAsync(lecturer, "bk_ledger_cal");

        var subjects = _harness.Services.GetRequiredService<SubjectRegistry>();
        var ledger = _harness.Services.GetRequiredService<DisclosureLedger>();
        var student = await ledger.ReadChainAsync((await subjects.FindAsync("stu_ledger_cal"))!);
        var lecturerRows = (await ledger.ReadChainAsync((await subjects.FindAsync(lecturer))!)).Where(e => e.PurposeId == "google.lesson-calendar").ToList();
        Assert.Equal([DisclosureOutcome.Intended, DisclosureOutcome.Succeeded], student.Select(e => e.Outcome));
        Assert.Equal(["end.dateTime", "start.dateTime"], student[0].DataItems.Order(StringComparer.Ordinal));
        Assert.Contains("start.timeZone", lecturerRows[0].DataItems);
        Assert.Equal("bk_ledger_cal", student[1].BookingId);
        Assert.True((await _harness.Services.GetRequiredService<LedgerVerifier>().VerifyAsync()).IsIntact);
    }

    [Fact]
    public async Task NightlySync_NoChanges_CostsOneListRequestPerLecturer_HandEditsAndDeletesAreRestored_410RunsAFullSync()
    {
        var lecturers = new[] { "lec_sync_a", "lec_sync_b", "lec_sync_c" };
        var calendars = new Dictionary<string, string>();
        foreach (var lecturer in lecturers)
        {
            calendars[lecturer] = await ConnectAsync(lecturer);
            await _harness.IngestAsync(EventTypes.BookingConfirmed, $"bk_{lecturer}", 1, Lesson, lecturer);
            await Converger.ConvergeAsync(lecturer, $"bk_{lecturer}");
        }

        var sync = _harness.Services.GetRequiredService<CalendarNightlySync>();
        await sync.RunAsync(); // takes the first sync tokens
        Google.ClearRequests();

        var quiet = await sync.RunAsync();
        var quietCalls = Google.Requests.Where(r => r.IsCalendarApi && calendars.Values.Any(c => r.Path.Contains(c, StringComparison.Ordinal))).ToList();

        Assert.Equal(0, quiet.Restored);
        Assert.Equal(lecturers.Length, quietCalls.Count);
        Assert.All(quietCalls, r => Assert.Contains("syncToken=", r.Query, StringComparison.Ordinal));

        Google.EditByHand(calendars["lec_sync_a"], EventId("bk_lec_sync_a"), e => { e["summary"] = "moved by hand"; e["start"]!["dateTime"] = "2031-01-01T00:00:00+00:00"; });
        Google.DeleteByHand(calendars["lec_sync_b"], EventId("bk_lec_sync_b"));
        Google.ClearRequests();
        var restoring = await sync.RunAsync();

        Assert.Equal(2, restoring.Restored);
        Assert.Equal([("PUT", 200), ("PUT", 200)], Google.Requests.Where(r => r.IsEventCall && r.Method != "GET").Select(r => (r.Method, r.Status)));
        var restoredA = Assert.Single(Google.EventsOf(calendars["lec_sync_a"]));
        Assert.Equal("Cafetalk lesson", restoredA.Body["summary"]!.GetValue<string>());
        Assert.Equal(CalendarEventPayload.Local(Lesson, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin")), restoredA.Body["start"]!["dateTime"]!.GetValue<string>());
        Assert.False(Assert.Single(Google.EventsOf(calendars["lec_sync_b"])).Cancelled);

        Google.ExpireSyncTokens();
        Google.ClearRequests();
        var full = await sync.RunAsync();

        // Other tests' lecturers are connected in this Sandbox too: count only these three calendars' requests.
        var ours = Google.Requests.Where(r => r.IsEventCall && calendars.Values.Any(c => r.Path.Contains(c, StringComparison.Ordinal))).ToList();
        Assert.True(full.FullResyncs >= lecturers.Length);
        Assert.Equal(0, full.Restored);
        Assert.Equal([410, 200], ours.Where(r => r.Path.Contains(calendars["lec_sync_c"], StringComparison.Ordinal)).Select(r => r.Status));
        Assert.Equal(lecturers.Length * 2, ours.Count);
    }

    [Fact]
    public async Task NightlySync_BookingsWhoseConvergeMessagesWereLost_AreInsertedAndDeletedOnce_ThenCostOnlyTheList()
    {
        const string lecturer = "lec_sync_lost";
        var calendar = await ConnectAsync(lecturer);
        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_lost_cancel", 1, Lesson, lecturer);
        await Converger.ConvergeAsync(lecturer, "bk_lost_cancel");
        var sync = _harness.Services.GetRequiredService<CalendarNightlySync>();
        await sync.RunAsync(); // takes the sync token, so only changes made in Google are listed from here on
        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_lost_new", 1, Lesson.AddHours(2), lecturer);
        await _harness.IngestAsync(EventTypes.BookingCancelled, "bk_lost_cancel", 2, Lesson, lecturer);
        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_lost_started", 1, TimeProvider.System.GetUtcNow().AddMinutes(-20), lecturer);
        await _harness.ClearQueuesAsync(); // the converge messages of all three are lost (as if poisoned and never replayed)
        Google.ClearRequests();

        var first = await sync.RunAsync();
        var firstWrites = Google.Requests.Where(r => r.IsEventCall && r.Method != "GET" && r.Path.Contains(calendar, StringComparison.Ordinal)).ToList();
        Google.ClearRequests();
        var second = await sync.RunAsync();
        var secondCalls = Google.Requests.Where(r => r.IsCalendarApi && r.Path.Contains(calendar, StringComparison.Ordinal)).ToList();

        Assert.True(first.Repaired >= 2, $"repaired {first.Repaired}"); // other tests' lecturers share this Sandbox
        Assert.Equal([("DELETE", 204), ("POST", 200)], firstWrites.Select(r => (r.Method, r.Status)).Order());
        var live = Assert.Single(Google.EventsOf(calendar), e => !e.Cancelled);
        Assert.Equal(EventId("bk_lost_new"), live.Id);
        Assert.DoesNotContain(Google.EventsOf(calendar), e => e.Id == EventId("bk_lost_started"));
        Assert.Equal(0, second.Repaired);
        Assert.Equal("GET", Assert.Single(secondCalls).Method);
    }

    [GeneratedRegex("^[a-v0-9]{5,1024}$")]
    private static partial Regex EventIdRule();
}
