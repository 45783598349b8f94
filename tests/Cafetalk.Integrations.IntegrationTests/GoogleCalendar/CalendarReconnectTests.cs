using System.Net;
using System.Text.RegularExpressions;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Storage;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.GoogleCalendar;

/// <summary>
/// Connect tickets that work once and not for long, and a reconnect that replaces a connection only after the
/// lecturer confirms it on our page, removing the old calendar and grant first: over HTTP against the Google simulator.
/// </summary>
public sealed partial class CalendarReconnectTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private readonly HttpClient _http = new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });
    private CalendarHarness _harness = null!;

    public async Task InitializeAsync()
    {
        // No retries: a fault the test plants is the answer the code sees.
        _harness = await CalendarHarness.StartAsync(fixture, services => services.Configure<GoogleCalendarOptions>(o => o.MaxRetryAttempts = 0));
        _harness.Google.Faults.Disable();
    }

    public async Task DisposeAsync()
    {
        _harness.Google.Faults.Disable();
        _http.Dispose();
        await _harness.DisposeAsync();
    }

    private CalendarConnections Connections => _harness.Services.GetRequiredService<CalendarConnections>();

    private int TokenRequests => _harness.Google.Requests.Count(r => r.IsToken);

    private Uri ConnectRoute => new(_harness.Server.BaseUrl, "api/calendar/connect");

    [Fact]
    public async Task SameTicketCompletedInTwoBrowsers_OnlyTheFirstConnects_TheSecondExchangesNothing()
    {
        const string lecturer = "lec_two_browsers";
        var ticket = _harness.Ticket(lecturer);
        var (first, firstCookie) = await _harness.StartAsync(ticket);
        var (second, secondCookie) = await _harness.StartAsync(ticket);
        var firstBack = await _harness.DecideAsync(first.Headers.Location!, approve: true);
        var secondBack = await _harness.DecideAsync(second.Headers.Location!, approve: true);

        var (done, _) = await _harness.CallbackAsync(firstBack, firstCookie);
        var connected = (await Connections.FindAsync(lecturer))!;
        var before = TokenRequests;
        var (refused, body) = await _harness.CallbackAsync(secondBack, secondCookie);

        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("This link was already used", body, StringComparison.Ordinal);
        // The second account's code is never exchanged: the connection is still the first browser's.
        Assert.Equal(before, TokenRequests);
        Assert.Equal(connected.CalendarId, (await Connections.FindAsync(lecturer))!.CalendarId);
        // And the spent ticket cannot start a third consent either.
        var (third, thirdCookie) = await _harness.StartAsync(ticket);
        Assert.Equal(HttpStatusCode.BadRequest, third.StatusCode);
        Assert.Null(thirdCookie);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(60 * 24 * 365)]
    public async Task TicketSignedForLongerThanTheServersCap_IsRefused_WhateverTheSignerWrote(int minutes)
    {
        var ticket = _harness.Services.GetRequiredService<ConnectTickets>().Issue("lec_long_ticket", TimeSpan.FromMinutes(minutes));

        var (response, cookie) = await _harness.StartAsync(ticket);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("このリンクは無効です", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(cookie);
        Assert.Equal(0, await CountAsync(TableNames.CalendarConnectStates, "lec_long_ticket"));
    }

    [Fact]
    public async Task ConnectWhileConnected_ShowsAConfirmationPage_SendsNobodyToGoogle()
    {
        const string lecturer = "lec_confirm_page";
        await _harness.ConnectAsync(lecturer);
        var before = _harness.Google.Requests.Count;

        var (response, cookie) = await _harness.StartAsync(_harness.Ticket(lecturer));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Null(cookie);
        Assert.Contains("Google カレンダーの連携を置き換えますか？", html, StringComparison.Ordinal);
        Assert.Contains("Replace your Google Calendar connection?", await StartEnglishAsync(lecturer), StringComparison.Ordinal);
        Assert.Matches("<form method=\"post\" action=\"connect\\?lang=ja\"", html);
        Assert.NotNull(ConfirmToken(html));
        Assert.Contains("form-action 'self'", string.Join(' ', response.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        Assert.Equal(before, _harness.Google.Requests.Count);
    }

    [Fact]
    public async Task ConfirmedReconnect_DeletesTheOldCalendar_RevokesTheOldGrant_ThenStoresTheNewOne_OnTheLedger()
    {
        const string lecturer = "lec_reconnect";
        await _harness.ConnectAsync(lecturer);
        var old = (await Connections.FindAsync(lecturer))!;
        _harness.Google.ClearRequests();

        var (response, body) = await ReconnectConfirmedAsync(lecturer);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Google Calendar is connected", body, StringComparison.Ordinal);
        var now = (await Connections.FindAsync(lecturer))!;
        Assert.NotEqual(old.CalendarId, now.CalendarId);
        Assert.NotEqual(old.ConsentId, now.ConsentId);
        Assert.DoesNotContain(_harness.Google.Calendars, c => c.Id == old.CalendarId);
        Assert.Single(_harness.Google.Calendars, c => c.Id == now.CalendarId);
        // Order at Google: the old calendar deleted, then the old grant revoked, then the new calendar created.
        var requests = _harness.Google.Requests.ToList();
        var deleteOld = requests.FindIndex(r => r.Method == "DELETE" && r.Path == $"/calendar/v3/calendars/{old.CalendarId}" && r.Status is 200 or 204);
        var revokeOld = requests.FindIndex(r => r.Path == "/revoke" && r.Status == 200 && r.Query.Contains(Uri.EscapeDataString(old.RefreshToken), StringComparison.Ordinal));
        var createNew = requests.FindIndex(r => r.Method == "POST" && r.Path == "/calendar/v3/calendars");
        Assert.True(deleteOld >= 0 && deleteOld < revokeOld && revokeOld < createNew, string.Join("\n", requests.Select(r => $"{r.Method} {r.Path} {r.Status}")));
        // The revocation of the old grant is on the ledger, its Intended row before its outcome, under the old consent.
        var chain = await _harness.Services.GetRequiredService<DisclosureLedger>().ReadChainAsync((await _harness.Services.GetRequiredService<SubjectRegistry>().FindAsync(lecturer))!);
        var revokes = chain.Where(e => e.Operation == "revoke").ToList();
        Assert.Equal([DisclosureOutcome.Intended, DisclosureOutcome.Succeeded], revokes.Select(e => e.Outcome));
        Assert.All(revokes, e => Assert.Equal(old.ConsentRecordId, e.ConsentRecordId));
    }

    [Fact]
    public async Task Reconnect_OldCalendarDeleteFails_KeepsTheOldConnection_RevokesOnlyTheNewGrant()
    {
        const string lecturer = "lec_reconnect_fail";
        await _harness.ConnectAsync(lecturer);
        var old = (await Connections.FindAsync(lecturer))!;
        _harness.Google.ClearRequests();
        _harness.Google.Faults.Enable(7, 1.0, (method, path) => method == "DELETE" && path == $"/calendar/v3/calendars/{old.CalendarId}");

        var (response, body) = await ReconnectConfirmedAsync(lecturer);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("The connection failed", body, StringComparison.Ordinal);
        var kept = (await Connections.FindAsync(lecturer))!;
        Assert.Equal((old.CalendarId, old.ConsentId, ConnectionStatus.Connected), (kept.CalendarId, kept.ConsentId, kept.Status));
        Assert.Contains(_harness.Google.Calendars, c => c.Id == old.CalendarId);
        // The old grant is untouched; only the grant just given for the new account is revoked; no new calendar.
        var revokes = _harness.Google.Requests.Where(r => r.Path == "/revoke").ToList();
        Assert.DoesNotContain(revokes, r => r.Query.Contains(Uri.EscapeDataString(old.RefreshToken), StringComparison.Ordinal));
        Assert.Single(revokes);
        Assert.DoesNotContain(_harness.Google.Requests, r => r.Method == "POST" && r.Path == "/calendar/v3/calendars");
    }

    [Theory]
    [InlineData("no-token")]
    [InlineData("used-token")]
    [InlineData("cross-site")]
    [InlineData("foreign-origin")]
    [InlineData("no-origin")]
    [InlineData("other-ticket")]
    public async Task ReplaceConfirmation_WithoutItsOneTimeTokenOrFromAnotherSite_Is403_AndNothingStarts(string attack)
    {
        var lecturer = $"lec_refuse_{attack.Replace('-', '_')}";
        await _harness.ConnectAsync(lecturer);
        var ticket = _harness.Ticket(lecturer);
        var (page, _) = await _harness.StartAsync(ticket);
        var confirm = ConfirmToken(await page.Content.ReadAsStringAsync())!;
        if (attack == "used-token")
        {
            using var first = await PostConfirmAsync(ticket, confirm);
            Assert.Equal(HttpStatusCode.SeeOther, first.StatusCode);
        }

        var states = await CountAsync(TableNames.CalendarConnectStates, lecturer);
        var before = _harness.Google.Requests.Count;
        using var response = attack switch
        {
            "no-token" => await PostConfirmAsync(ticket, null),
            "cross-site" => await PostConfirmAsync(ticket, confirm, ("Sec-Fetch-Site", "cross-site"), ("Origin", "https://evil.example")),
            "foreign-origin" => await PostConfirmAsync(ticket, confirm, ("Origin", "https://evil.example")),
            "no-origin" => await PostConfirmAsync(ticket, confirm, []),
            "other-ticket" => await PostConfirmAsync(_harness.Ticket(lecturer), confirm),
            _ => await PostConfirmAsync(ticket, confirm),
        };

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("The confirmation could not be accepted", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(response.Headers.Location);
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.Equal(states, await CountAsync(TableNames.CalendarConnectStates, lecturer));
        Assert.Equal(before, _harness.Google.Requests.Count);
    }

    [Fact]
    public async Task Callback_AfterAConnectionAppearedSinceTheConsentStarted_IsRefused_AndExchangesNothing()
    {
        const string lecturer = "lec_raced";
        var (start, cookie) = await _harness.StartAsync(_harness.Ticket(lecturer));
        var back = await _harness.DecideAsync(start.Headers.Location!, approve: true);
        await _harness.ConnectAsync(lecturer);
        var connected = (await Connections.FindAsync(lecturer))!;
        var before = TokenRequests;

        var (response, body) = await _harness.CallbackAsync(back, cookie);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("Your connection changed meanwhile", body, StringComparison.Ordinal);
        Assert.Equal(before, TokenRequests);
        Assert.Equal(connected.ConsentId, (await Connections.FindAsync(lecturer))!.ConsentId);
    }

    [Fact]
    public async Task Disconnect_CalendarDeleteFails_NothingIsRevoked_TheConnectionIsKept_502()
    {
        const string lecturer = "lec_disconnect_fail";
        await _harness.ConnectAsync(lecturer);
        var connection = (await Connections.FindAsync(lecturer))!;
        _harness.Google.ClearRequests();
        _harness.Google.Faults.Enable(11, 1.0, (method, path) => method == "DELETE" && path.StartsWith("/calendar/v3/calendars/", StringComparison.Ordinal));

        using var response = await _harness.DisconnectAsync(lecturer);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("https://cafetalk.com/problems/calendar/calendar-delete-failed", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(_harness.Google.Requests, r => r.Path == "/revoke");
        Assert.Equal(connection.ConsentId, (await Connections.FindAsync(lecturer))!.ConsentId);
        Assert.Contains(_harness.Google.Calendars, c => c.Id == connection.CalendarId);
    }

    [Fact]
    public async Task Purge_RemovesExpiredSpentTicketsAndConfirmations_KeepsLiveOnes_AndAPurgedConfirmationNoLongerWorks()
    {
        var spent = _harness.Services.GetRequiredService<SpentConnectTickets>();
        var forms = _harness.Services.GetRequiredService<Http.OneTimeFormTokens>();
        var now = TimeProvider.System.GetUtcNow();
        Assert.True(await spent.TrySpendAsync("ticket-expired-" + Guid.NewGuid().ToString("N"), now.AddMinutes(-1)));
        var live = "ticket-live-" + Guid.NewGuid().ToString("N");
        Assert.True(await spent.TrySpendAsync(live, now.AddMinutes(10)));
        var stale = await forms.IssueAsync("purge-test", "binding", TimeSpan.FromMilliseconds(1));
        var fresh = await forms.IssueAsync("purge-test", "binding", TimeSpan.FromMinutes(10));
        await Task.Delay(50);

        var ticketsPurged = await spent.PurgeExpiredAsync();
        var formsPurged = await forms.PurgeExpiredAsync();

        Assert.True(ticketsPurged >= 1);
        Assert.True(formsPurged >= 1);
        Assert.True(await spent.IsSpentAsync(live));
        Assert.False(await spent.TrySpendAsync(live, now.AddMinutes(10)));
        Assert.False(await forms.RedeemAsync(stale, "purge-test", "binding"));
        Assert.True(await forms.RedeemAsync(fresh, "purge-test", "binding"));
    }

    [Fact]
    public async Task Confirmation_RedeemedByManyAtOnce_WorksForExactlyOne_AndAClaimOfAGoneRowIsRefused()
    {
        var forms = _harness.Services.GetRequiredService<Http.OneTimeFormTokens>();
        var token = await forms.IssueAsync("race-test", "binding", TimeSpan.FromMinutes(10));

        // Azure.Data.Tables answers a delete of a row already gone with 404 instead of throwing: that must not count as a win.
        var redeemed = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => forms.RedeemAsync(token, "race-test", "binding")));

        Assert.Equal(1, redeemed.Count(won => won));
        var table = _harness.Services.GetRequiredService<StorageAccount>().Table(TableNames.FormTokens);
        var row = new Azure.Data.Tables.TableEntity("claim-" + Guid.NewGuid().ToString("N"), "race-test");
        var etag = (await table.AddEntityAsync(row)).Headers.ETag!.Value;
        Assert.True(await TableClaims.TryDeleteAsync(table, row.PartitionKey, row.RowKey, etag, CancellationToken.None));
        Assert.False(await TableClaims.TryDeleteAsync(table, row.PartitionKey, row.RowKey, etag, CancellationToken.None));
    }

    /// <summary>The whole confirmed reconnect as a browser does it: the page, its form posted back, Google, the callback.</summary>
    private async Task<(HttpResponseMessage Response, string Body)> ReconnectConfirmedAsync(string lecturer)
    {
        var ticket = _harness.Ticket(lecturer);
        var (page, _) = await _harness.StartAsync(ticket);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        using var confirmed = await PostConfirmAsync(ticket, ConfirmToken(await page.Content.ReadAsStringAsync()));
        Assert.Equal(HttpStatusCode.SeeOther, confirmed.StatusCode);
        var cookie = confirmed.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
        var back = await _harness.DecideAsync(confirmed.Headers.Location!, approve: true);
        return await _harness.CallbackAsync(back, cookie);
    }

    private Task<HttpResponseMessage> PostConfirmAsync(string ticket, string? confirm, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(ConnectRoute, "connect?lang=en"))
        {
            Content = new FormUrlEncodedContent(confirm is null ? [new("ticket", ticket)] : [new("ticket", ticket), new("confirm", confirm)]),
        };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return _http.SendAsync(request);
    }

    private Task<HttpResponseMessage> PostConfirmAsync(string ticket, string? confirm) =>
        PostConfirmAsync(ticket, confirm, ("Origin", _harness.Server.BaseUrl.GetLeftPart(UriPartial.Authority)), ("Sec-Fetch-Site", "same-origin"));

    private async Task<string> StartEnglishAsync(string lecturer)
    {
        using var response = await _http.GetAsync(new Uri(ConnectRoute, $"connect?lang=en&ticket={Uri.EscapeDataString(_harness.Ticket(lecturer))}"));
        return System.Net.WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
    }

    private async Task<int> CountAsync(string table, string lecturerId)
    {
        var count = 0;
        await foreach (var row in fixture.Storage.Table(table).QueryAsync<Azure.Data.Tables.TableEntity>())
        {
            count += row.GetString("LecturerId") == lecturerId ? 1 : 0;
        }

        return count;
    }

    internal static string? ConfirmToken(string html) => ConfirmField().Match(html) is { Success: true } m ? m.Groups[1].Value : null;

    [GeneratedRegex("name=\"confirm\" value=\"([A-Za-z0-9_-]{43})\"")]
    private static partial Regex ConfirmField();
}
