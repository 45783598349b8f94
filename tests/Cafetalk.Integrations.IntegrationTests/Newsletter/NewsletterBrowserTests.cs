using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Disclosure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Cafetalk.Integrations.IntegrationTests.Newsletter;

/// <summary>The unsubscribe pages as a member sees them, in a real headless Chromium, in Japanese and English.</summary>
public sealed class NewsletterBrowserTests(ServedSandboxFixture fixture) : IClassFixture<ServedSandboxFixture>
{
    private async Task<(string SubjectRef, string Link)> SubscribeAsync(string locale)
    {
        var memberId = $"stu_web_{Guid.NewGuid():N}"[..24];
        var subscriptions = fixture.Services.GetRequiredService<NewsletterSubscriptions>();
        await subscriptions.HandleEventAsync(SampleEvents.NewsletterSubscribed(memberId, $"{memberId}@example.jp", "cafetalk-news", locale), null);
        var subjectRef = (await fixture.Services.GetRequiredService<SubjectRegistry>().FindAsync(memberId))!;
        return (subjectRef, (await subscriptions.HeadersAsync(memberId, "cafetalk-news")).UnsubscribeUrl);
    }

    private Task<SubscriptionStatus> StatusAsync(string subjectRef) =>
        fixture.Services.GetRequiredService<NewsletterSubscriptionStore>().GetAsync(subjectRef, "cafetalk-news").ContinueWith(t => t.Result!.Status, TaskScheduler.Default);

    [Theory]
    [InlineData("ja-JP", "ja", "メールマガジンの配信停止", "配信を停止する", "配信を停止しました", "配信を再開する", "配信を再開しました")]
    [InlineData("en-US", "en", "Unsubscribe from the newsletter", "Unsubscribe", "You are unsubscribed", "Resubscribe", "You are subscribed again")]
    public async Task UnsubscribeThenResubscribe_InTheMembersLanguage_WithTheKeyboard(
        string browserLocale, string lang, string confirmTitle, string unsubscribeButton, string doneTitle, string resubscribeButton, string backTitle)
    {
        var (subjectRef, link) = await SubscribeAsync(lang);
        var (playwright, browser) = await Browser.LaunchAsync();
        try
        {
            await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { Locale = browserLocale });
            var page = await context.NewPageAsync();
            var requests = new List<string>();
            page.Request += (_, r) => requests.Add(r.Url);

            var response = await page.GotoAsync(link);
            Assert.Equal(200, response!.Status);
            Assert.Equal(lang, await page.GetAttributeAsync("html", "lang"));
            Assert.Equal(confirmTitle, await page.Locator("h1").TextContentAsync());
            Assert.Equal(SubscriptionStatus.Subscribed, await StatusAsync(subjectRef));

            // Keyboard only: the first Tab reaches the button, whose accessible name is its label.
            await page.Keyboard.PressAsync("Tab");
            var focused = page.Locator(":focus");
            Assert.Equal(unsubscribeButton, (await focused.TextContentAsync())?.Trim());
            Assert.Equal("hint", await focused.EvaluateAsync<string>("b => b.form.getAttribute('aria-describedby')"));
            await page.Keyboard.PressAsync("Enter");
            // Polls the page as it is, so a navigation that finished before we looked is not missed (WaitForURL raced it in CI).
            await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync(doneTitle);
            Assert.Contains("/api/newsletter/unsubscribe?", page.Url, StringComparison.Ordinal);
            Assert.NotEqual(link, page.Url);
            Assert.Equal(SubscriptionStatus.Unsubscribed, await StatusAsync(subjectRef));
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Path.GetTempPath(), $"cafetalk-unsubscribed-{lang}.png") });

            await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = resubscribeButton }).ClickAsync();
            await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync(backTitle);
            Assert.Contains("/api/newsletter/resubscribe?", page.Url, StringComparison.Ordinal);
            Assert.Equal(SubscriptionStatus.Subscribed, await StatusAsync(subjectRef));

            // No external assets: every request the page made went to our own server.
            Assert.All(requests, url => Assert.StartsWith(fixture.Server.BaseUrl.ToString(), url, StringComparison.Ordinal));
        }
        finally
        {
            await browser.CloseAsync();
            playwright.Dispose();
        }
    }

    [Fact]
    public async Task TamperedLink_ShowsTheInvalidLinkPage_InJapanese()
    {
        var (subjectRef, link) = await SubscribeAsync("ja");
        var (playwright, browser) = await Browser.LaunchAsync();
        try
        {
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { Locale = "ja-JP" });

            var response = await page.GotoAsync(link[..^3]);

            Assert.Equal(404, response!.Status);
            Assert.Equal("このリンクは無効です", await page.Locator("h1").TextContentAsync());
            Assert.Equal(0, await page.Locator("button").CountAsync());
            Assert.Equal(SubscriptionStatus.Subscribed, await StatusAsync(subjectRef));
        }
        finally
        {
            await browser.CloseAsync();
            playwright.Dispose();
        }
    }
}
