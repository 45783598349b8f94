using System.Net;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Sandbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Cafetalk.Integrations.IntegrationTests.Newsletter;

/// <summary>
/// Resubscribe is a new consent (特定電子メール法 Art. 3): in a real Chromium, the button on our own page works once,
/// and a form another site posts to our route, even with a genuine link and confirmation, is refused.
/// </summary>
public sealed class ResubscribeConsentBrowserTests(ServedSandboxFixture fixture) : IClassFixture<ServedSandboxFixture>
{
    private const string List = "cafetalk-news";

    private async Task<(string SubjectRef, Uri Link)> UnsubscribedMemberAsync()
    {
        var memberId = $"stu_consent_{Guid.NewGuid():N}"[..28];
        var subscriptions = fixture.Services.GetRequiredService<NewsletterSubscriptions>();
        await subscriptions.HandleEventAsync(SampleEvents.NewsletterSubscribed(memberId, $"{memberId}@example.jp", List, "en"), null);
        var subjectRef = (await fixture.Services.GetRequiredService<SubjectRegistry>().FindAsync(memberId))!;
        var link = new Uri((await subscriptions.HeadersAsync(memberId, List)).UnsubscribeUrl);
        using var http = fixture.CreateClient();
        using var unsubscribed = await http.PostAsync(link, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
        Assert.Equal(HttpStatusCode.OK, unsubscribed.StatusCode);
        return (subjectRef, link);
    }

    private async Task<SubscriptionStatus> StatusAsync(string subjectRef) =>
        (await fixture.Services.GetRequiredService<NewsletterSubscriptionStore>().GetAsync(subjectRef, List))!.Status;

    [Fact]
    public async Task ResubscribeButton_WorksOnce_TheSameFormSubmittedAgainIsRefused()
    {
        var (subjectRef, link) = await UnsubscribedMemberAsync();
        var (playwright, browser) = await Browser.LaunchAsync();
        try
        {
            await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-US" });
            var page = await context.NewPageAsync();
            await page.GotoAsync(link.ToString());
            await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("You are unsubscribed");
            // Keep the page's form as it was rendered, to submit it a second time from our own origin.
            var form = await page.Locator("form").EvaluateAsync<string>("f => f.outerHTML");

            await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Resubscribe" }).ClickAsync();
            await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("You are subscribed again");
            Assert.Equal(SubscriptionStatus.Subscribed, await StatusAsync(subjectRef));

            // Unsubscribed again by one-click; the old page's form (its confirmation already spent) is posted once more.
            using (var http = fixture.CreateClient())
            {
                (await http.PostAsync(link, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]))).Dispose();
            }

            await page.GotoAsync(link.ToString());
            await page.Locator("main").EvaluateAsync("(m, html) => { m.innerHTML = html; }", form);
            var answer = await page.RunAndWaitForResponseAsync(() => page.Locator("form button").ClickAsync(), r => r.Url.Contains("/resubscribe?", StringComparison.Ordinal));

            Assert.Equal(403, answer.Status);
            await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Resubscribing could not be confirmed");
            Assert.Equal(SubscriptionStatus.Unsubscribed, await StatusAsync(subjectRef));
        }
        finally
        {
            await browser.CloseAsync();
            playwright.Dispose();
        }
    }

    [Fact]
    public async Task FormOnAnotherSite_PostingAGenuineLinkAndConfirmation_IsRefused_TheMemberStaysUnsubscribed()
    {
        var (subjectRef, link) = await UnsubscribedMemberAsync();
        // The attacker holds the permanent link and even a confirmation fetched from our page.
        using var http = fixture.CreateClient();
        var confirm = ResubscribeButton.ConfirmToken(await http.GetStringAsync(link))!;
        var (playwright, browser) = await Browser.LaunchAsync();
        try
        {
            await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-US" });
            await context.RouteAsync("http://evil.example/**", route => route.FulfillAsync(new RouteFulfillOptions
            {
                ContentType = "text/html",
                Body = $"""
                    <!doctype html><html><body>
                    <form id="f" method="post" action="{WebUtility.HtmlEncode(ResubscribeButton.ResubscribeUri(link).ToString())}">
                    <input type="hidden" name="confirm" value="{confirm}"><button type="submit">Win a prize</button></form>
                    </body></html>
                    """,
            }));
            var page = await context.NewPageAsync();
            await page.GotoAsync("http://evil.example/prize");

            var answer = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("button"), r => r.Url.Contains("/resubscribe?", StringComparison.Ordinal));

            Assert.Equal(403, answer.Status);
            var sent = await answer.Request.AllHeadersAsync();
            Assert.Equal("http://evil.example", sent["origin"]);
            await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Resubscribing could not be confirmed");
            Assert.Equal(SubscriptionStatus.Unsubscribed, await StatusAsync(subjectRef));
        }
        finally
        {
            await browser.CloseAsync();
            playwright.Dispose();
        }
    }
}
