using Cafetalk.Integrations.Http;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Sandbox;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Newsletter;

/// <summary>
/// <see cref="NewsletterFlow"/> called directly, without HTTP, against Azurite: the outcome for each input, and what
/// the subscription holds afterwards.
/// </summary>
public sealed class NewsletterFlowOutcomeTests(ServedSandboxFixture fixture) : IClassFixture<ServedSandboxFixture>
{
    private const string List = "cafetalk-news";

    private NewsletterFlow Flow => fixture.Services.GetRequiredService<NewsletterFlow>();

    private static PostedForm OneClick(string? source = null) =>
        PostedForm.Of(source is null ? new Dictionary<string, string> { ["List-Unsubscribe"] = "One-Click" } : new Dictionary<string, string> { ["List-Unsubscribe"] = "One-Click", ["source"] = source });

    /// <summary>A fresh subscribed member; returns the <c>t</c> of their unsubscribe link.</summary>
    private async Task<string> SubscribeAsync()
    {
        var memberId = $"stu_flow_{Guid.NewGuid():N}"[..30];
        var subscriptions = fixture.Services.GetRequiredService<NewsletterSubscriptions>();
        await subscriptions.HandleEventAsync(SampleEvents.NewsletterSubscribed(memberId, $"{memberId}@example.jp", List, "ja"), null);
        var link = new Uri((await subscriptions.HeadersAsync(memberId, List)).UnsubscribeUrl);
        return QueryHelpers.ParseQuery(link.Query)["t"].ToString();
    }

    private async Task<SubscriptionStatus> StatusAsync(string link) => (await fixture.Services.GetRequiredService<NewsletterPreferences>().ViewAsync(link)).Subscription!.Status;

    [Fact]
    public async Task Show_AnInvalidLink_Is404InvalidLinkPage_AndAValidOne_AsksWithoutChangingAnything()
    {
        var link = await SubscribeAsync();

        var invalid = Assert.IsType<FlowOutcome.Page>(await Flow.ShowAsync("not-a-link", "en"));
        var confirm = Assert.IsType<FlowOutcome.Page>(await Flow.ShowAsync(link, "en"));

        Assert.Equal(404, invalid.Status);
        Assert.Contains("This link is not valid", invalid.Html, StringComparison.Ordinal);
        Assert.Equal((200, "'self'"), (confirm.Status, confirm.FormAction));
        Assert.Contains("value=\"One-Click\"", confirm.Html, StringComparison.Ordinal);
        Assert.Equal(SubscriptionStatus.Subscribed, await StatusAsync(link));
    }

    [Theory]
    [InlineData(PostedFormOutcome.TooLarge, 413, "body-too-large")]
    [InlineData(PostedFormOutcome.TooSlow, 408, "body-too-slow")]
    [InlineData(PostedFormOutcome.Unreadable, 400, "body-unreadable")]
    [InlineData(PostedFormOutcome.NotAForm, 415, "form-expected")]
    [InlineData(PostedFormOutcome.Malformed, 400, "malformed-form")]
    public async Task Unsubscribe_AFormNotReadWhole_IsRefusedWithAPageForBrowsers_AndChangesNothing(PostedFormOutcome form, int status, string type)
    {
        var link = await SubscribeAsync();

        var refused = Assert.IsType<FlowOutcome.Refused>(await Flow.UnsubscribeAsync(link, PostedForm.Failed(form), "ja"));

        Assert.Equal((status, "https://cafetalk.com/problems/newsletter/" + type), (refused.Status, refused.Problem.Type));
        Assert.Contains("リクエストを処理できません", refused.BrowserPage, StringComparison.Ordinal);
        Assert.Equal(SubscriptionStatus.Subscribed, await StatusAsync(link));
    }

    [Fact]
    public async Task Unsubscribe_WithoutTheOneClickBody_Is400_AndWithIt_UnsubscribesOnceWithoutAResubscribeButton()
    {
        var link = await SubscribeAsync();

        var wrongBody = Assert.IsType<FlowOutcome.Refused>(await Flow.UnsubscribeAsync(link, PostedForm.Of(new Dictionary<string, string> { ["List-Unsubscribe"] = "yes" }), "en"));
        Assert.Equal((400, "https://cafetalk.com/problems/newsletter/one-click-body"), (wrongBody.Status, wrongBody.Problem.Type));
        Assert.Equal(SubscriptionStatus.Subscribed, await StatusAsync(link));

        var first = Assert.IsType<FlowOutcome.Page>(await Flow.UnsubscribeAsync(link, OneClick(), "en"));
        var again = Assert.IsType<FlowOutcome.Page>(await Flow.UnsubscribeAsync(link, OneClick(), "en"));

        Assert.Equal((200, 200), (first.Status, again.Status));
        Assert.Null(ResubscribeButton.ConfirmToken(first.Html));
        Assert.Equal(SubscriptionStatus.Unsubscribed, await StatusAsync(link));
    }

    [Fact]
    public async Task Resubscribe_OnlyFromOurOwnPageWithItsOneTimeConfirmation()
    {
        var link = await SubscribeAsync();
        var unsubscribed = Assert.IsType<FlowOutcome.Page>(await Flow.UnsubscribeAsync(link, OneClick(source: "page"), "en"));
        var confirm = ResubscribeButton.ConfirmToken(unsubscribed.Html)!;
        var form = PostedForm.Of(new Dictionary<string, string> { ["confirm"] = confirm });

        var crossSite = Assert.IsType<FlowOutcome.Refused>(await Flow.ResubscribeAsync(link, form, fromOurOwnPage: false, "en"));
        var withoutConfirmation = Assert.IsType<FlowOutcome.Refused>(await Flow.ResubscribeAsync(link, PostedForm.Of(new Dictionary<string, string>()), fromOurOwnPage: true, "en"));
        Assert.Equal((403, "https://cafetalk.com/problems/newsletter/cross-site"), (crossSite.Status, crossSite.Problem.Type));
        Assert.Equal((403, "https://cafetalk.com/problems/newsletter/confirmation-required"), (withoutConfirmation.Status, withoutConfirmation.Problem.Type));
        Assert.Equal(SubscriptionStatus.Unsubscribed, await StatusAsync(link));

        var resubscribed = Assert.IsType<FlowOutcome.Page>(await Flow.ResubscribeAsync(link, form, fromOurOwnPage: true, "en"));
        var replayed = Assert.IsType<FlowOutcome.Refused>(await Flow.ResubscribeAsync(link, form, fromOurOwnPage: true, "en"));

        Assert.Equal(200, resubscribed.Status);
        Assert.Equal(SubscriptionStatus.Subscribed, await StatusAsync(link));
        Assert.Equal(403, replayed.Status);
    }
}
