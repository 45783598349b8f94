using System.Net;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Cafetalk.Integrations.IntegrationTests.GoogleCalendar;

/// <summary>
/// In Debian's Chromium: a lecturer who is connected and connects again sees our confirmation page first; pressing
/// its button replaces the connection (old calendar gone), and the same form posted by another site is refused.
/// </summary>
public sealed partial class CalendarReconnectBrowserTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private CalendarHarness _harness = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _harness = await CalendarHarness.StartAsync(fixture);
        (_playwright, _browser) = await Browser.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _harness.DisposeAsync();
    }

    private CalendarConnections Connections => _harness.Services.GetRequiredService<CalendarConnections>();

    [Fact]
    public async Task ConnectedLecturerConnectsAgain_ConfirmsOnOurPage_ThenTheOldCalendarIsGoneAndTheNewOneStored()
    {
        const string lecturer = "lec_browser_replace";
        await _harness.ConnectAsync(lecturer);
        var old = (await Connections.FindAsync(lecturer))!;
        await using var context = await _browser.NewContextAsync(new() { Locale = "en-US" });
        var page = await context.NewPageAsync();

        await page.GotoAsync(_harness.ConnectLink(lecturer).ToString());
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Replace your Google Calendar connection?");
        Assert.Empty(await context.CookiesAsync());
        Assert.Equal(old.ConsentId, (await Connections.FindAsync(lecturer))!.ConsentId);

        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("Replace and continue", (await page.Locator(":focus").TextContentAsync())?.Trim());
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("#approve")).ToBeVisibleAsync();
        Assert.StartsWith(_harness.Google.BaseAddress.ToString(), page.Url, StringComparison.Ordinal);
        await page.ClickAsync("#approve");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Google Calendar is connected");

        var now = (await Connections.FindAsync(lecturer))!;
        Assert.NotEqual(old.ConsentId, now.ConsentId);
        Assert.DoesNotContain(_harness.Google.Calendars, c => c.Id == old.CalendarId);
        Assert.Contains(_harness.Google.Calendars, c => c.Id == now.CalendarId);
    }

    [Fact]
    public async Task ConfirmationFormPostedByAnotherSite_IsRefused_NobodyIsSentToGoogle()
    {
        const string lecturer = "lec_browser_csrf";
        await _harness.ConnectAsync(lecturer);
        var old = (await Connections.FindAsync(lecturer))!;
        // The attacker has a genuine ticket and the confirmation our page rendered for it.
        var ticket = _harness.Ticket(lecturer);
        var (confirmPage, _) = await _harness.StartAsync(ticket);
        var confirm = CalendarReconnectTests.ConfirmToken(await confirmPage.Content.ReadAsStringAsync())!;
        await using var context = await _browser.NewContextAsync(new() { Locale = "en-US" });
        await context.RouteAsync("http://evil.example/**", route => route.FulfillAsync(new RouteFulfillOptions
        {
            ContentType = "text/html",
            Body = $"""
                <!doctype html><html><body>
                <form method="post" action="{WebUtility.HtmlEncode(new Uri(_harness.Server.BaseUrl, "api/calendar/connect?lang=en").ToString())}">
                <input type="hidden" name="ticket" value="{WebUtility.HtmlEncode(ticket)}"><input type="hidden" name="confirm" value="{confirm}">
                <button type="submit">Continue</button></form>
                </body></html>
                """,
        }));
        var page = await context.NewPageAsync();
        await page.GotoAsync("http://evil.example/calendar");
        var requestsBefore = _harness.Google.Requests.Count;

        var answer = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("button"), r => r.Url.Contains("/api/calendar/connect", StringComparison.Ordinal));

        Assert.Equal(403, answer.Status);
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("The confirmation could not be accepted");
        Assert.Empty(await context.CookiesAsync());
        Assert.Equal(requestsBefore, _harness.Google.Requests.Count);
        Assert.Equal(old.ConsentId, (await Connections.FindAsync(lecturer))!.ConsentId);
    }
}
