using System.Net;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Google;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.GoogleCalendar;

/// <summary>
/// The calendar converger and the nightly sync against what Google's published material says (Contracts/google.contract.json):
/// patch semantics, a deleted event's id, the incremental listing's parameters, a calendar deleted by hand.
/// </summary>
public sealed class CalendarPublishedContractTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private static readonly DateTimeOffset Lesson = new DateTimeOffset(TimeProvider.System.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero).AddDays(4).AddHours(9);
    private CalendarHarness _harness = null!;

    public async Task InitializeAsync()
    {
        _harness = await CalendarHarness.StartAsync(fixture);
        await _harness.ClearQueuesAsync();
    }

    public async Task DisposeAsync()
    {
        (Google.DeletedIdReuse, Google.DeletedEventUpdate) = (DeletedIdReuse.Conflict, DeletedEventUpdate.Restore);
        await _harness.DisposeAsync();
    }

    private GoogleSimulator Google => _harness.Google;

    private CalendarEventConverger Converger => _harness.Services.GetRequiredService<CalendarEventConverger>();

    private CalendarNightlySync Sync => _harness.Services.GetRequiredService<CalendarNightlySync>();

    private CalendarConnections Connections => _harness.Services.GetRequiredService<CalendarConnections>();

    private string EventId(string bookingId) => _harness.Services.GetRequiredService<CalendarEventIds>().For(bookingId);

    private async Task<string> ConnectAsync(string lecturer)
    {
        var (response, _) = await _harness.ConnectAsync(lecturer);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await _harness.ClearQueuesAsync();
        return (await Connections.FindAsync(lecturer))!.CalendarId;
    }

    private async Task ConfirmAsync(string lecturer, string bookingId, DateTimeOffset startsAt)
    {
        await _harness.IngestAsync(EventTypes.BookingConfirmed, bookingId, 1, startsAt, lecturer);
        Assert.Equal(EventConvergence.Created, (await Converger.ConvergeAsync(lecturer, bookingId)).Outcome);
    }

    /// <summary>The requests that named this calendar.</summary>
    private List<RecordedGoogleRequest> CallsTo(string calendarId) =>
        [.. Google.Requests.Where(r => r.IsCalendarApi && r.Path.Contains(calendarId, StringComparison.Ordinal))];

    [Fact]
    public async Task HandAddedGuestAndText_AreRemovedByOneRestore_AndLaterNightsCostOnlyTheListing()
    {
        const string lecturer = "lec_c_guest";
        var calendar = await ConnectAsync(lecturer);
        await ConfirmAsync(lecturer, "bk_c_guest", Lesson);
        await Sync.RunAsync(); // takes the sync token
        Google.EditByHand(calendar, EventId("bk_c_guest"), e =>
        {
            e["attendees"] = new JsonArray(new JsonObject { ["email"] = "guest@example.test" });
            e["description"] = "notes typed by hand";
        });
        Google.ClearRequests();

        var restoring = await Sync.RunAsync();
        var restoreWrites = CallsTo(calendar).Where(r => r.Method != "GET").Select(r => (r.Method, r.Status)).ToList();
        Google.ClearRequests();
        await Sync.RunAsync();
        await Sync.RunAsync();
        var laterNights = CallsTo(calendar);

        Assert.True(restoring.Restored >= 1);
        Assert.Equal([("PUT", 200)], restoreWrites);
        var held = Assert.Single(Google.EventsOf(calendar)).Body;
        Assert.Null(held["attendees"]);
        Assert.Null(held["description"]);
        Assert.Equal("Cafetalk lesson", held["summary"]!.GetValue<string>());
        // The restored event shows once more as changed, matches, and is left alone: one listing per night, no write.
        Assert.Equal([("GET", 200), ("GET", 200)], laterNights.Select(r => (r.Method, r.Status)));
    }

    [Fact]
    public async Task IncrementalListing_RepeatsTheFullListingsShowDeleted_AndIsAnswered200()
    {
        const string lecturer = "lec_c_list";
        var calendar = await ConnectAsync(lecturer);
        await ConfirmAsync(lecturer, "bk_c_list", Lesson);
        Google.ClearRequests();

        await Sync.RunAsync();
        await Sync.RunAsync();

        var listings = CallsTo(calendar).Where(r => r.Method == "GET").ToList();
        Assert.Equal(2, listings.Count);
        Assert.DoesNotContain("syncToken=", listings[0].Query, StringComparison.Ordinal);
        Assert.Contains("syncToken=", listings[1].Query, StringComparison.Ordinal);
        Assert.All(listings, r => Assert.Contains("showDeleted=true", r.Query, StringComparison.Ordinal));
        Assert.All(listings, r => Assert.Equal(200, r.Status));
        Assert.NotNull((await Connections.FindAsync(lecturer))!.SyncToken);
    }

    [Theory]
    [InlineData(DeletedIdReuse.Conflict)]
    [InlineData(DeletedIdReuse.Forbidden)]
    public async Task ReconfirmedAfterCancel_InsertOfTheDeletedIdAnswered409Or403_OneUpdateRestoresTheEvent(DeletedIdReuse answer)
    {
        var lecturer = $"lec_c_reuse_{answer}".ToLowerInvariant();
        var calendar = await ConnectAsync(lecturer);
        await ConfirmAsync(lecturer, $"bk_{lecturer}", Lesson);
        await _harness.IngestAsync(EventTypes.BookingCancelled, $"bk_{lecturer}", 2, Lesson, lecturer);
        Assert.Equal(EventConvergence.Deleted, (await Converger.ConvergeAsync(lecturer, $"bk_{lecturer}")).Outcome);
        Google.DeletedIdReuse = answer;
        Google.ClearRequests();

        await _harness.IngestAsync(EventTypes.BookingConfirmed, $"bk_{lecturer}", 3, Lesson.AddHours(1), lecturer);
        var result = await Converger.ConvergeAsync(lecturer, $"bk_{lecturer}");

        Assert.Equal(EventConvergence.Updated, result.Outcome);
        Assert.Equal([("POST", answer == DeletedIdReuse.Conflict ? 409 : 403), ("PUT", 200)], CallsTo(calendar).Select(r => (r.Method, r.Status)));
        var restored = Assert.Single(Google.EventsOf(calendar));
        Assert.False(restored.Cancelled);
        Assert.Equal(CalendarPayloadTime(Lesson.AddHours(1)), restored.Body["start"]!["dateTime"]!.GetValue<string>());
    }

    [Fact]
    public async Task NightlySync_OneBookingsRestoreRefused_TheOtherIsRestored_TheTokenIsSaved_AndTheNextNightRepairsIt()
    {
        const string lecturer = "lec_c_iso";
        var calendar = await ConnectAsync(lecturer);
        await ConfirmAsync(lecturer, "bk_c_iso_a", Lesson);
        await ConfirmAsync(lecturer, "bk_c_iso_b", Lesson.AddHours(2));
        await Sync.RunAsync();
        var tokenBefore = (await Connections.FindAsync(lecturer))!.SyncToken;
        Google.DeleteByHand(calendar, EventId("bk_c_iso_a"));
        Google.EditByHand(calendar, EventId("bk_c_iso_b"), e => e["summary"] = "renamed by hand");
        Google.DeletedEventUpdate = DeletedEventUpdate.Forbidden; // as reported: the deleted event cannot be written
        Google.ClearRequests();

        var first = await Sync.RunAsync();
        var firstWrites = CallsTo(calendar).Where(r => r.Method != "GET").Select(r => (r.Method, r.Status)).Order().ToList();
        var tokenAfter = (await Connections.FindAsync(lecturer))!.SyncToken;
        Google.DeletedEventUpdate = DeletedEventUpdate.Restore;
        Google.ClearRequests();
        var second = await Sync.RunAsync();
        var secondWrites = CallsTo(calendar).Where(r => r.Method != "GET").Select(r => (r.Method, r.Status)).ToList();

        Assert.Equal(0, first.Failed);
        Assert.True(first.RestoreFailed >= 1, $"restore failed {first.RestoreFailed}");
        Assert.Equal([("PUT", 200), ("PUT", 403)], firstWrites);
        Assert.Equal("Cafetalk lesson", Google.EventsOf(calendar).Single(e => e.Id == EventId("bk_c_iso_b")).Body["summary"]!.GetValue<string>());
        Assert.NotNull(tokenAfter);
        Assert.NotEqual(tokenBefore, tokenAfter);
        Assert.True(second.Repaired >= 1);
        Assert.Equal([("PUT", 200)], secondWrites);
        Assert.All(Google.EventsOf(calendar), e => Assert.False(e.Cancelled));
    }

    [Fact]
    public async Task CalendarDeletedByHand_NightlySync_MakesANewOne_StoresItsId_RefillsUpcomingLessons_AndTellsTheLecturer()
    {
        const string lecturer = "lec_c_gone";
        var old = await ConnectAsync(lecturer);
        await ConfirmAsync(lecturer, "bk_c_gone_a", Lesson);
        await ConfirmAsync(lecturer, "bk_c_gone_b", Lesson.AddDays(1));
        await Sync.RunAsync();
        await _harness.ClearQueuesAsync(); // the confirmations' own converge messages are spent
        Google.DeleteCalendarByHand(old);
        Google.ClearRequests();

        var report = await Sync.RunAsync();
        var fresh = (await Connections.FindAsync(lecturer))!;
        var refilled = await _harness.DrainCalendarQueueAsync();
        var again = await Sync.RunAsync();

        Assert.True(report.Recreated >= 1);
        Assert.NotEqual(old, fresh.CalendarId);
        Assert.Null(fresh.SyncToken);
        Assert.Equal([("GET", 404)], CallsTo(old).Select(r => (r.Method, r.Status)));
        Assert.Single(Google.Requests, r => r.Method == "POST" && r.Path == "/calendar/v3/calendars");
        Assert.Equal([EventConvergence.Created, EventConvergence.Created], refilled.Select(r => r!.Outcome));
        Assert.Equal(new[] { EventId("bk_c_gone_a"), EventId("bk_c_gone_b") }.Order(StringComparer.Ordinal), Google.EventsOf(fresh.CalendarId).Select(e => e.Id).Order(StringComparer.Ordinal));
        Assert.Equal(0, again.Recreated);
        var notice = Assert.Single((await fixture.Storage.Queue(QueueNames.SiteNotifications).PeekMessagesAsync(10)).Value).Body.ToString();
        var data = JsonNode.Parse(notice)!;
        Assert.Equal(SiteNotificationTypes.LessonCalendarRecreated.Type, data["type"]!.GetValue<string>());
        Assert.Equal(["correlationId", "lecturerId"], data["data"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(lecturer, data["data"]!["lecturerId"]!.GetValue<string>());
    }

    [Fact]
    public async Task CalendarDeletedByHand_ARescheduleMakesANewOne_AndGoesIntoIt()
    {
        const string lecturer = "lec_c_gone_conv";
        var old = await ConnectAsync(lecturer);
        await ConfirmAsync(lecturer, "bk_c_gone_conv", Lesson);
        Google.DeleteCalendarByHand(old);
        Google.ClearRequests();

        await _harness.IngestAsync(EventTypes.BookingRescheduled, "bk_c_gone_conv", 2, Lesson.AddHours(3), lecturer);
        var result = await Converger.ConvergeAsync(lecturer, "bk_c_gone_conv");

        var fresh = (await Connections.FindAsync(lecturer))!.CalendarId;
        Assert.Equal(EventConvergence.Created, result.Outcome);
        Assert.NotEqual(old, fresh);
        Assert.Equal([("PUT", 404), ("POST", 404)], CallsTo(old).Select(r => (r.Method, r.Status)));
        var inserted = Assert.Single(Google.EventsOf(fresh));
        Assert.Equal(EventId("bk_c_gone_conv"), inserted.Id);
        Assert.Equal(CalendarPayloadTime(Lesson.AddHours(3)), inserted.Body["start"]!["dateTime"]!.GetValue<string>());
        var row = (await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>(lecturer, "bk_c_gone_conv")).Value;
        Assert.Equal(fresh, row.GetString("GoogleCalendarId"));
    }

    [Fact]
    public async Task Simulator_Patch_KeepsOmittedFields_ReplacesArrays_AndAnIncrementalListingMustRepeatTheFullOnesFilters()
    {
        const string lecturer = "lec_c_sim";
        var calendar = await ConnectAsync(lecturer);
        await ConfirmAsync(lecturer, "bk_c_sim", Lesson);
        var token = await _harness.Services.GetRequiredService<GoogleAuthorization>().GetAccessTokenAsync((await Connections.FindAsync(lecturer))!, "test");
        using var http = new HttpClient { BaseAddress = new Uri(Google.BaseAddress, $"calendar/v3/calendars/{Uri.EscapeDataString(calendar)}/") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var eventPath = $"events/{EventId("bk_c_sim")}";
        Google.EditByHand(calendar, EventId("bk_c_sim"), e => e["attendees"] = new JsonArray(new JsonObject { ["email"] = "one@example.test" }, new JsonObject { ["email"] = "two@example.test" }));

        using var arrays = await http.PatchAsync(eventPath, JsonContent("""{"attendees":[{"email":"three@example.test"}]}"""));
        var afterArrays = Assert.Single(Google.EventsOf(calendar)).Body;
        using var omitted = await http.PatchAsync(eventPath, JsonContent("""{"summary":"patched"}"""));
        var afterOmitted = Assert.Single(Google.EventsOf(calendar)).Body;
        using var full = await http.GetAsync("events?showDeleted=true");
        var syncToken = JsonNode.Parse(await full.Content.ReadAsStringAsync())!["nextSyncToken"]!.GetValue<string>();
        var incremental = new Dictionary<string, HttpStatusCode>();
        foreach (var query in new[] { "showDeleted=true", string.Empty, "showDeleted=false", "showDeleted=true&timeMin=2030-01-01T00:00:00Z" })
        {
            using var listed = await http.GetAsync($"events?syncToken={Uri.EscapeDataString(syncToken)}{(query.Length == 0 ? string.Empty : "&" + query)}");
            incremental[query] = listed.StatusCode;
        }

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (arrays.StatusCode, omitted.StatusCode));
        Assert.Equal(["three@example.test"], afterArrays["attendees"]!.AsArray().Select(a => a!["email"]!.GetValue<string>()));
        Assert.Equal("Cafetalk lesson", afterArrays["summary"]!.GetValue<string>());
        Assert.Equal("patched", afterOmitted["summary"]!.GetValue<string>());
        Assert.Single(afterOmitted["attendees"]!.AsArray());
        Assert.Equal(CalendarPayloadTime(Lesson), afterOmitted["start"]!["dateTime"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, incremental["showDeleted=true"]);
        Assert.All(incremental.Where(p => p.Key != "showDeleted=true"), p => Assert.Equal(HttpStatusCode.BadRequest, p.Value));
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    private static string CalendarPayloadTime(DateTimeOffset utc) => CalendarEventPayload.Local(utc, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"));
}
