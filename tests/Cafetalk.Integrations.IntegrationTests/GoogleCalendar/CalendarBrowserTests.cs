using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Cafetalk.Integrations.IntegrationTests.GoogleCalendar;

/// <summary>Debian's Chromium, driven by Playwright, through the whole consent: the lecturer's view of connecting.</summary>
public sealed partial class CalendarBrowserTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private CalendarHarness _harness = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _harness = await CalendarHarness.StartAsync(fixture);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _harness.DisposeAsync();
    }

    [Fact]
    public async Task ConnectLink_Approve_PageSaysConnected_ThenABookingAppearsInTheSimulatorsCalendar()
    {
        const string lecturer = "lec_browser_ok";
        await _harness.ClearQueuesAsync();
        await using var context = await _browser.NewContextAsync(new() { Locale = "ja-JP" });
        var page = await context.NewPageAsync();

        await page.GotoAsync(_harness.ConnectLink(lecturer).ToString());
        Assert.StartsWith(_harness.Google.BaseAddress.ToString(), page.Url, StringComparison.Ordinal);
        var stateCookie = Assert.Single(await context.CookiesAsync(), c => c.Name.StartsWith("__Host-", StringComparison.Ordinal));
        Assert.True(stateCookie.Secure && stateCookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Lax, stateCookie.SameSite);
        await Assertions.Expect(page.Locator("#consent-scope")).ToContainTextAsync(GoogleCalendarOptions.Scope);
        await page.ClickAsync("#approve");
        // Polls the URL rather than waiting for a load event, which may have fired before a wait could start.
        await Assertions.Expect(page).ToHaveURLAsync(CallbackUrl());

        Assert.StartsWith(new Uri(_harness.Server.BaseUrl, "api/calendar/callback").ToString(), page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Google カレンダーと連携しました");
        await Assertions.Expect(page.Locator("[role=status]")).ToContainTextAsync("Cafetalk lessons");
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name.StartsWith("__Host-", StringComparison.Ordinal));

        await _harness.IngestAsync(EventTypes.BookingConfirmed, "bk_browser_1", 1, TimeProvider.System.GetUtcNow().AddDays(3), lecturer);
        // The meeting converger asks the calendar converger once the join link exists, as in production.
        await _harness.Services.GetRequiredService<Cafetalk.Integrations.Zoom.MeetingConverger>().ConvergeAsync(lecturer, "bk_browser_1");
        await _harness.DrainCalendarQueueAsync();

        var connection = await _harness.Services.GetRequiredService<CalendarConnections>().FindAsync(lecturer);
        var calendar = Assert.Single(_harness.Google.Calendars, c => c.Id == connection!.CalendarId);
        Assert.Equal("Cafetalk lessons", calendar.Body["summary"]!.GetValue<string>());
        var lesson = Assert.Single(_harness.Google.EventsOf(calendar.Id));
        Assert.Equal(_harness.Services.GetRequiredService<CalendarEventIds>().For("bk_browser_1"), lesson.Id);
        Assert.Equal("private", lesson.Body["visibility"]!.GetValue<string>());
    }

    [Fact]
    public async Task ConnectLink_Deny_PageSaysWhatToDoNext_AndNothingIsStored()
    {
        const string lecturer = "lec_browser_deny";
        await using var context = await _browser.NewContextAsync(new() { Locale = "en-US" });
        var page = await context.NewPageAsync();

        await page.GotoAsync(_harness.ConnectLink(lecturer).ToString());
        await page.ClickAsync("#deny");
        // Polls the URL rather than waiting for a load event, which may have fired before a wait could start.
        await Assertions.Expect(page).ToHaveURLAsync(CallbackUrl());

        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Connection cancelled");
        await Assertions.Expect(page.Locator("[role=alert]")).ToContainTextAsync("Connect Google Calendar");
        Assert.Null(await _harness.Services.GetRequiredService<CalendarConnections>().FindAsync(lecturer));
        Assert.Contains("error=access_denied", page.Url, StringComparison.Ordinal);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"/api/calendar/callback\?")]
    private static partial System.Text.RegularExpressions.Regex CallbackUrl();
}
