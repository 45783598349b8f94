using System.Net;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Storage;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.GoogleCalendar;

/// <summary>The connect routes over HTTP against the Google simulator: what goes to Google, what is stored, which page is shown.</summary>
public sealed class CalendarConnectFlowTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private CalendarHarness _harness = null!;

    public async Task InitializeAsync()
    {
        _harness = await CalendarHarness.StartAsync(fixture);
        await _harness.ClearQueuesAsync();
        _harness.Google.GrantedScopeOverride = null;
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    private CalendarConnections Connections => _harness.Services.GetRequiredService<CalendarConnections>();

    private int TokenRequests => _harness.Google.Requests.Count(r => r.IsToken);

    [Fact]
    public async Task Connect_RedirectsToGoogleWithPkceOneScopeOfflineAndExactRedirect_AndSetsAHostCookie()
    {
        var (response, _) = await _harness.StartAsync(_harness.Ticket("lec_redirect"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith($"{_harness.Google.BaseAddress}o/oauth2/v2/auth?", location.ToString(), StringComparison.Ordinal);
        var query = QueryHelpers.ParseQuery(location.Query);
        Assert.Equal("https://www.googleapis.com/auth/calendar.app.created", query["scope"].ToString());
        Assert.Equal(new Uri(_harness.Server.BaseUrl, "api/calendar/callback").ToString(), query["redirect_uri"].ToString());
        Assert.Equal(("code", "offline", "S256"), (query["response_type"].ToString(), query["access_type"].ToString(), query["code_challenge_method"].ToString()));
        Assert.Equal(43, query["code_challenge"].ToString().Length);
        Assert.True(query["state"].ToString().Length >= 43);
        var setCookie = response.Headers.GetValues("Set-Cookie").Single();
        Assert.StartsWith("__Host-cafetalk-calendar=", setCookie, StringComparison.Ordinal);
        foreach (var attribute in new[] { "secure", "httponly", "samesite=lax", "path=/" })
        {
            Assert.Contains(attribute, setCookie, StringComparison.OrdinalIgnoreCase);
        }

        Assert.DoesNotContain("domain=", setCookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Approve_StoresTheSealedTokenCreatesOneCalendarBackfillsUpcomingBookingsAndRecordsTheConsent()
    {
        const string lecturer = "lec_approve";
        var now = TimeProvider.System.GetUtcNow();
        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_up_1", 1, now.AddDays(2), lecturer);
        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_up_2", 1, now.AddDays(9), lecturer);
        await _harness.IngestAsync(EventTypes.BookingCancelled, "bk_up_3", 1, now.AddDays(5), lecturer);
        await _harness.ClearQueuesAsync();

        var (response, body) = await _harness.ConnectAsync(lecturer);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Google Calendar is connected", body, StringComparison.Ordinal);
        var exchange = Assert.Single(_harness.Google.Requests, r => r.IsToken && r.Body.Contains("grant_type=authorization_code", StringComparison.Ordinal));
        Assert.Contains("code_verifier=", exchange.Body, StringComparison.Ordinal);
        Assert.Equal(200, exchange.Status);
        var row = (await fixture.Storage.Table(TableNames.CalendarConnections).GetEntityAsync<TableEntity>("google", lecturer)).Value;
        Assert.StartsWith("v1.sandbox1.", row.GetString("RefreshToken"), StringComparison.Ordinal);
        var connection = (await Connections.FindAsync(lecturer))!;
        Assert.StartsWith("1//", connection.RefreshToken, StringComparison.Ordinal);
        Assert.DoesNotContain(connection.RefreshToken, row.GetString("RefreshToken"), StringComparison.Ordinal);
        var calendar = Assert.Single(_harness.Google.Calendars, c => c.Id == connection.CalendarId);
        Assert.Equal(["summary"], calendar.Body.Select(p => p.Key).Where(k => k is not "id" and not "kind"));
        var backfill = (await fixture.Storage.Queue(QueueNames.CalendarConverge).PeekMessagesAsync(10)).Value.Select(m => m.Body.ToString()).ToList();
        Assert.Equal(2, backfill.Count);
        Assert.All(backfill, m => Assert.Contains(lecturer, m, StringComparison.Ordinal));

        var chain = await _harness.Services.GetRequiredService<DisclosureLedger>().ReadChainAsync((await _harness.Services.GetRequiredService<SubjectRegistry>().FindAsync(lecturer))!);
        Assert.Equal([DisclosureOutcome.Intended, DisclosureOutcome.Succeeded], chain.Select(e => e.Outcome));
        Assert.All(chain, e => Assert.Equal(("google.authorization", "authorize", connection.ConsentRecordId), (e.PurposeId, e.Operation, e.ConsentRecordId)));
        Assert.Equal(["code"], chain[0].DataItems);
    }

    [Fact]
    public async Task Deny_ShowsWhatToDoNext_ExchangesNothing_StoresNothing()
    {
        var before = TokenRequests;

        var (response, body) = await _harness.ConnectAsync("lec_deny", approve: false);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Connection cancelled", body, StringComparison.Ordinal);
        Assert.Equal(before, TokenRequests);
        Assert.Null(await Connections.FindAsync("lec_deny"));
    }

    [Fact]
    public async Task ReplayedCallback_IsRefusedWithAClearPage_AndExchangesNothingMore()
    {
        var (start, cookie) = await _harness.StartAsync(_harness.Ticket("lec_replay"));
        var back = await _harness.DecideAsync(start.Headers.Location!, approve: true);
        var (first, _) = await _harness.CallbackAsync(back, cookie);
        var before = TokenRequests;

        var (replay, body) = await _harness.CallbackAsync(back, cookie);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Contains("The connection could not be completed", body, StringComparison.Ordinal);
        Assert.Equal(before, TokenRequests);
    }

    [Theory]
    [InlineData("missing-cookie")]
    [InlineData("other-cookie")]
    [InlineData("wrong-state")]
    public async Task CallbackWithoutItsOwnCookieOrState_IsRefused_AndNothingIsStored(string tamper)
    {
        var lecturer = $"lec_{tamper.Replace('-', '_')}";
        var (start, cookie) = await _harness.StartAsync(_harness.Ticket(lecturer));
        var (_, otherCookie) = await _harness.StartAsync(_harness.Ticket("lec_someone_else"));
        var back = await _harness.DecideAsync(start.Headers.Location!, approve: true);
        var before = TokenRequests;
        if (tamper == "wrong-state")
        {
            back = new Uri(QueryHelpers.AddQueryString(back.GetLeftPart(UriPartial.Path), new Dictionary<string, string?>
            {
                ["state"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                ["code"] = QueryHelpers.ParseQuery(back.Query)["code"].ToString(),
            }));
        }

        var (response, body) = await _harness.CallbackAsync(back, tamper switch { "missing-cookie" => null, "other-cookie" => otherCookie, _ => cookie });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("The connection could not be completed", body, StringComparison.Ordinal);
        Assert.Equal(before, TokenRequests);
        Assert.Null(await Connections.FindAsync(lecturer));
    }

    [Theory]
    [InlineData("tampered")]
    [InlineData("foreign-key")]
    [InlineData("garbage")]
    public async Task TamperedTicket_ShowsInvalidLink_SetsNoCookie_SendsNobodyToGoogle(string kind)
    {
        var genuine = _harness.Ticket("lec_victim");
        var ticket = kind switch
        {
            // Another lecturer's id under the genuine MAC.
            "tampered" => genuine.Replace("lec_victim", "lec_attack", StringComparison.Ordinal),
            "foreign-key" => "other~lec_victim~9999999999~AAAA",
            _ => "not-a-ticket",
        };

        var (response, cookie) = await _harness.StartAsync(ticket);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("このリンクは無効です", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(cookie);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task GrantWithoutTheCalendarScope_IsRevoked_ShowsWhatToDo_AndStoresNothing()
    {
        _harness.Google.GrantedScopeOverride = "openid";

        var (response, body) = await _harness.ConnectAsync("lec_noscope");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Calendar access was not granted", body, StringComparison.Ordinal);
        Assert.Null(await Connections.FindAsync("lec_noscope"));
        Assert.Contains(_harness.Google.Requests, r => r.Path == "/revoke" && r.Status == 200);
    }

    [Fact]
    public async Task Disconnect_NeedsTheFunctionKey_ThenDeletesTheCalendarRevokesAtGoogleDeletesTheRowAndRecordsIt()
    {
        const string lecturer = "lec_disconnect";
        await _harness.ConnectAsync(lecturer);
        var connection = (await Connections.FindAsync(lecturer))!;

        var anonymous = await _harness.DisconnectAsync(lecturer, withKey: false);
        var done = await _harness.DisconnectAsync(lecturer);
        var again = await _harness.DisconnectAsync(lecturer);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Contains("\"disconnected\"", await done.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("\"not-connected\"", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(_harness.Google.Calendars, c => c.Id == connection.CalendarId);
        Assert.Single(_harness.Google.Requests, r => r.Path == "/revoke" && r.Status == 200 && r.Query.Contains(Uri.EscapeDataString(connection.RefreshToken), StringComparison.Ordinal));
        Assert.Null(await Connections.FindAsync(lecturer));
        var chain = await _harness.Services.GetRequiredService<DisclosureLedger>().ReadChainAsync((await _harness.Services.GetRequiredService<SubjectRegistry>().FindAsync(lecturer))!);
        Assert.Equal(["revoke", "revoke"], chain.TakeLast(2).Select(e => e.Operation));
        Assert.Equal(DisclosureOutcome.Succeeded, chain[^1].Outcome);
    }

    // Found by fuzzing (HttpRouteFuzzTests, POST /api/calendar/disconnect): {"lecturerId":"\ud800"} is valid JSON syntax,
    // but reading the id threw InvalidOperationException and the route answered 500.
    [Fact]
    public async Task Disconnect_LecturerIdEscapingAnUnpairedSurrogate_Is400BadBody()
    {
        var response = await _harness.DisconnectAsync("\\ud800");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("https://cafetalk.com/problems/calendar/bad-body", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    // Found by fuzzing: a body the server refuses while it is read (over Kestrel's limit) threw out of the route.
    [Fact]
    public async Task Disconnect_BodyTheServerRefusesWhileItIsRead_Is413Problem()
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Body = new BodyTheServerRefuses();

        var functions = ActivatorUtilities.CreateInstance<Cafetalk.Integrations.Functions.GoogleCalendar.CalendarFunctions>(_harness.Services);
        var result = await functions.CalendarDisconnect(context.Request);

        var problem = Assert.IsType<Microsoft.AspNetCore.Mvc.ObjectResult>(result);
        Assert.Equal(413, problem.StatusCode);
        Assert.Equal("https://cafetalk.com/problems/calendar/too-large", Assert.IsType<Microsoft.AspNetCore.Mvc.ProblemDetails>(problem.Value).Type);
    }

    /// <summary>A request body as Kestrel hands it over when it is over the limit: reading throws BadHttpRequestException (413).</summary>
    private sealed class BodyTheServerRefuses : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            throw new Microsoft.AspNetCore.Http.BadHttpRequestException("Request body too large.", 413);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            throw new Microsoft.AspNetCore.Http.BadHttpRequestException("Request body too large.", 413);
    }

    [Fact]
    public async Task CiphertextSwappedBetweenTwoLecturers_OpensForNeither_DisconnectRefusesAndNothingReachesGoogle()
    {
        await _harness.ConnectAsync("lec_swap_a");
        await _harness.ConnectAsync("lec_swap_b");
        var table = fixture.Storage.Table(TableNames.CalendarConnections);
        var a = (await table.GetEntityAsync<TableEntity>("google", "lec_swap_a")).Value;
        var b = (await table.GetEntityAsync<TableEntity>("google", "lec_swap_b")).Value;
        (a["RefreshToken"], b["RefreshToken"]) = (b["RefreshToken"], a["RefreshToken"]);
        await table.UpdateEntityAsync(a, a.ETag, TableUpdateMode.Replace);
        await table.UpdateEntityAsync(b, b.ETag, TableUpdateMode.Replace);
        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_swap", 1, TimeProvider.System.GetUtcNow().AddDays(2), "lec_swap_a");
        _harness.Google.ClearRequests();

        var disconnect = await _harness.DisconnectAsync("lec_swap_b");
        var converge = await Record.ExceptionAsync(() => _harness.Services.GetRequiredService<CalendarEventConverger>().ConvergeAsync("lec_swap_a", "bk_swap"));

        Assert.Equal(HttpStatusCode.Conflict, disconnect.StatusCode);
        Assert.Equal("application/problem+json", disconnect.Content.Headers.ContentType?.MediaType);
        Assert.Contains("connection-unreadable", await disconnect.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.IsType<FieldProtectionException>(converge);
        Assert.Empty(_harness.Google.Requests);
        Assert.NotNull((await table.GetEntityIfExistsAsync<TableEntity>("google", "lec_swap_b")).Value);
    }
}
