using Cafetalk.Integrations.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Newsletter;

/// <summary>
/// The newsletter routes as plain inputs in and <see cref="FlowOutcome"/>s out. GET only shows a page; POST is RFC 8058
/// one-click (urlencoded or multipart <c>List-Unsubscribe=One-Click</c>, no cookie, no auth, idempotent, 200 without a
/// redirect). Resubscribe is a new consent (特定電子メール法 Art. 3): only from our own page (same origin), with the
/// one-time confirmation token that page was rendered with, never from the link alone.
/// </summary>
public sealed class NewsletterFlow(
    NewsletterPreferences preferences,
    OneTimeFormTokens formTokens,
    IOptions<NewsletterOptions> options,
    ILogger<NewsletterFlow> logger)
{
    private const string ResubscribePurpose = "newsletter-resubscribe";

    public const string UnsubscribeRoute = "newsletter/unsubscribe";
    public const string ResubscribeRoute = "newsletter/resubscribe";
    public const int MaxBodyBytes = 8 * 1024;
    private const string ProblemBase = "https://cafetalk.com/problems/newsletter/";

    /// <summary>Our pages' only forms post back to us.</summary>
    private const string OwnFormsOnly = "'self'";

    /// <summary>GET unsubscribe: the confirmation page for <paramref name="link"/> (link scanners must not unsubscribe anyone).</summary>
    public async Task<FlowOutcome> ShowAsync(string? link, string language, CancellationToken cancellationToken = default)
    {
        var view = await preferences.ViewAsync(link, cancellationToken);
        if (!view.ValidLink)
        {
            return Page(404, NewsletterPage.InvalidLink, language, null);
        }

        if (view.Subscription!.Status == SubscriptionStatus.Unsubscribed)
        {
            return Page(200, NewsletterPage.Unsubscribed, language, link, await IssueConfirmationAsync(link, cancellationToken));
        }

        return Page(200, NewsletterPage.Confirm, language, link);
    }

    /// <summary>POST unsubscribe: a mail client's one-click, or our page's button (<c>source=page</c>).</summary>
    public async Task<FlowOutcome> UnsubscribeAsync(string? link, PostedForm form, string language, CancellationToken cancellationToken = default)
    {
        if (Unread(form, language) is { } problem)
        {
            return problem;
        }

        if (form["List-Unsubscribe"] != "One-Click")
        {
            return Problem(400, "one-click-body", "The body must be List-Unsubscribe=One-Click (RFC 8058).", language);
        }

        var source = form["source"] == "page" ? ConsentSources.Page : ConsentSources.OneClick;
        var result = await preferences.UnsubscribeAsync(link, source, cancellationToken);
        if (!result.ValidLink)
        {
            return Problem(404, "invalid-link", "The unsubscribe link is not valid.", language, NewsletterPage.InvalidLink);
        }

        // A mail client's one-click reads no page: only our own page's button gets a resubscribe button back.
        var confirm = source == ConsentSources.Page ? await IssueConfirmationAsync(link, cancellationToken) : null;
        return Page(200, NewsletterPage.Unsubscribed, language, link, confirm);
    }

    /// <summary>POST resubscribe: only <paramref name="fromOurOwnPage"/>, with the page's one-time confirmation for this link.</summary>
    public async Task<FlowOutcome> ResubscribeAsync(string? link, PostedForm form, bool fromOurOwnPage, string language, CancellationToken cancellationToken = default)
    {
        if (Unread(form, language) is { } problem)
        {
            return problem;
        }

        if (!fromOurOwnPage)
        {
            logger.LogWarning("Newsletter resubscribe refused: not posted from our own page");
            return Problem(403, "cross-site", "Resubscribing is accepted only from the Cafetalk page that offers it.", language, NewsletterPage.ConfirmationRefused);
        }

        var view = await preferences.ViewAsync(link, cancellationToken);
        if (!view.ValidLink)
        {
            return Problem(404, "invalid-link", "The link is not valid.", language, NewsletterPage.InvalidLink);
        }

        if (!await formTokens.RedeemAsync(form["confirm"], ResubscribePurpose, link!, cancellationToken))
        {
            logger.LogWarning("Newsletter resubscribe refused: the one-time confirmation is missing, used, expired or for another link");
            return Problem(403, "confirmation-required",
                "Resubscribing needs the one-time confirmation from the Cafetalk page that offers it; open the link again.", language, NewsletterPage.ConfirmationRefused);
        }

        var result = await preferences.ResubscribeAsync(link, cancellationToken);
        return result.ValidLink
            ? Page(200, NewsletterPage.Resubscribed, language, null)
            : Problem(404, "invalid-link", "The link is not valid.", language, NewsletterPage.InvalidLink);
    }

    /// <summary>A fresh one-time token for the resubscribe button, bound to the link the page is shown for.</summary>
    private Task<string> IssueConfirmationAsync(string? link, CancellationToken cancellationToken) =>
        formTokens.IssueAsync(ResubscribePurpose, link ?? string.Empty, options.Value.ResubscribeConfirmationLifetime, cancellationToken);

    /// <summary>The refusal of a form that was not read whole and parsed; null when it was.</summary>
    private static FlowOutcome.Refused? Unread(PostedForm form, string language) => form.Outcome switch
    {
        PostedFormOutcome.TooLarge => Problem(413, "body-too-large", $"The body is over {MaxBodyBytes} bytes.", language),
        PostedFormOutcome.TooSlow => Problem(408, "body-too-slow", "The body did not arrive in time.", language),
        PostedFormOutcome.Unreadable => Problem(400, "body-unreadable", "The body could not be read.", language),
        PostedFormOutcome.NotAForm => Problem(415, "form-expected", "Send application/x-www-form-urlencoded or multipart/form-data.", language),
        PostedFormOutcome.Malformed => Problem(400, "malformed-form", "The form body could not be read.", language),
        _ => null,
    };

    private static FlowOutcome.Page Page(int status, NewsletterPage page, string language, string? token, string? confirmToken = null) =>
        new(status, NewsletterPages.Render(page, language, token, confirmToken)) { FormAction = OwnFormsOnly };

    /// <summary>ProblemDetails for machines; <paramref name="page"/> for browsers, with the same status.</summary>
    private static FlowOutcome.Refused Problem(int status, string type, string detail, string language, NewsletterPage page = NewsletterPage.BadRequest) =>
        new(status, new FlowProblem(ProblemBase + type, "Newsletter request refused", detail), NewsletterPages.Render(page, language, null, null)) { FormAction = OwnFormsOnly };
}
