using Cafetalk.Integrations.Newsletter;

namespace Cafetalk.Integrations.Tests.Newsletter;

public sealed class NewsletterPagesTests
{
    [Theory]
    [InlineData("en-US,en;q=0.9,ja;q=0.8", null, "en")]
    [InlineData("ja,en;q=0.5", null, "ja")]
    [InlineData("fr-FR,en;q=0.7", null, "en")]
    [InlineData("de-DE", null, "ja")]
    [InlineData("", null, "ja")]
    [InlineData("en", "ja", "ja")]
    [InlineData("ja", "en", "en")]
    [InlineData("en;q=0.2,ja;q=0.9", null, "ja")]
    public void ChooseLanguage_FollowsAcceptLanguageAndTheOverride(string header, string? lang, string expected) =>
        Assert.Equal(expected, Cafetalk.Integrations.Web.RequestLanguage.Choose(header, lang));

    [Fact]
    public void Render_ConfirmPage_PostsOneClickToTheSameRouteWithALabelledButton()
    {
        var html = NewsletterPages.Render(NewsletterPage.Confirm, "ja", "tok_en-1");

        Assert.Contains("<html lang=\"ja\">", html, StringComparison.Ordinal);
        Assert.Contains("<form method=\"post\" action=\"unsubscribe?t=tok_en-1&amp;lang=ja\"", html, StringComparison.Ordinal);
        Assert.Contains("name=\"List-Unsubscribe\" value=\"One-Click\"", html, StringComparison.Ordinal);
        Assert.Contains(">配信を停止する</button>", html, StringComparison.Ordinal);
        Assert.Contains("aria-describedby=\"hint\"", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(NewsletterPage.Confirm)]
    [InlineData(NewsletterPage.Unsubscribed)]
    [InlineData(NewsletterPage.Resubscribed)]
    [InlineData(NewsletterPage.InvalidLink)]
    public void Render_AnyPage_LoadsNothingFromOutside(NewsletterPage page)
    {
        foreach (var language in new[] { "ja", "en" })
        {
            var html = NewsletterPages.Render(page, language, "tok");

            Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("src=", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("http://", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Render_HostileToken_IsEncodedNotInjected()
    {
        var html = NewsletterPages.Render(NewsletterPage.Confirm, "en", "\"><script>alert(1)</script>");

        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
    }
}
