using Cafetalk.Integrations.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Cafetalk.Integrations.Newsletter;

/// <summary>
/// The HTTP side of the newsletter routes, shared by the Functions app and the local server. GET only shows a
/// page; POST is RFC 8058 one-click (urlencoded or multipart <c>List-Unsubscribe=One-Click</c>, no cookie, no
/// auth, idempotent, 200 without a redirect). Resubscribe is a new consent (特定電子メール法 Art. 3): only from our own
/// page (same origin), with the one-time confirmation token that page was rendered with, never from the link alone.
/// </summary>
public sealed class NewsletterEndpoints(
    NewsletterPreferences preferences,
    OneTimeFormTokens formTokens,
    IOptions<NewsletterOptions> options,
    TimeProvider time,
    ILogger<NewsletterEndpoints> logger)
{
    private const string ResubscribePurpose = "newsletter-resubscribe";

    public const string UnsubscribeRoute = "newsletter/unsubscribe";
    public const string ResubscribeRoute = "newsletter/resubscribe";
    public const int MaxBodyBytes = 8 * 1024;
    private const string ProblemBase = "https://cafetalk.com/problems/newsletter/";

    public async Task<IActionResult> ShowAsync(HttpRequest request)
    {
        var language = Language(request);
        var view = await preferences.ViewAsync(request.Query["t"], request.HttpContext.RequestAborted);
        if (!view.ValidLink)
        {
            return Page(request, StatusCodes.Status404NotFound, NewsletterPage.InvalidLink, language, null);
        }

        if (view.Subscription!.Status == SubscriptionStatus.Unsubscribed)
        {
            return Page(request, StatusCodes.Status200OK, NewsletterPage.Unsubscribed, language, request.Query["t"], await IssueConfirmationAsync(request));
        }

        return Page(request, StatusCodes.Status200OK, NewsletterPage.Confirm, language, request.Query["t"]);
    }

    public async Task<IActionResult> UnsubscribeAsync(HttpRequest request)
    {
        var language = Language(request);
        var (form, problem) = await ReadFormAsync(request, language);
        if (problem is not null)
        {
            return problem;
        }

        if (form!["List-Unsubscribe"] != "One-Click")
        {
            return Problem(request, StatusCodes.Status400BadRequest, "one-click-body", "The body must be List-Unsubscribe=One-Click (RFC 8058).", language);
        }

        var source = form["source"] == "page" ? ConsentSources.Page : ConsentSources.OneClick;
        var result = await preferences.UnsubscribeAsync(request.Query["t"], source, request.HttpContext.RequestAborted);
        if (!result.ValidLink)
        {
            return Problem(request, StatusCodes.Status404NotFound, "invalid-link", "The unsubscribe link is not valid.", language, NewsletterPage.InvalidLink);
        }

        // A mail client's one-click reads no page: only our own page's button gets a resubscribe button back.
        var confirm = source == ConsentSources.Page ? await IssueConfirmationAsync(request) : null;
        return Page(request, StatusCodes.Status200OK, NewsletterPage.Unsubscribed, language, request.Query["t"], confirm);
    }

    public async Task<IActionResult> ResubscribeAsync(HttpRequest request)
    {
        var language = Language(request);
        var cancellationToken = request.HttpContext.RequestAborted;
        var (form, problem) = await ReadFormAsync(request, language);
        if (problem is not null)
        {
            return problem;
        }

        if (!SameOriginRequests.IsSameOrigin(request))
        {
            logger.LogWarning("Newsletter resubscribe refused: not posted from our own page");
            return Problem(request, StatusCodes.Status403Forbidden, "cross-site", "Resubscribing is accepted only from the Cafetalk page that offers it.", language, NewsletterPage.ConfirmationRefused);
        }

        string? link = request.Query["t"];
        var view = await preferences.ViewAsync(link, cancellationToken);
        if (!view.ValidLink)
        {
            return Problem(request, StatusCodes.Status404NotFound, "invalid-link", "The link is not valid.", language, NewsletterPage.InvalidLink);
        }

        if (!await formTokens.RedeemAsync(form!["confirm"], ResubscribePurpose, link!, cancellationToken))
        {
            logger.LogWarning("Newsletter resubscribe refused: the one-time confirmation is missing, used, expired or for another link");
            return Problem(request, StatusCodes.Status403Forbidden, "confirmation-required",
                "Resubscribing needs the one-time confirmation from the Cafetalk page that offers it; open the link again.", language, NewsletterPage.ConfirmationRefused);
        }

        var result = await preferences.ResubscribeAsync(link, cancellationToken);
        return result.ValidLink
            ? Page(request, StatusCodes.Status200OK, NewsletterPage.Resubscribed, language, null)
            : Problem(request, StatusCodes.Status404NotFound, "invalid-link", "The link is not valid.", language, NewsletterPage.InvalidLink);
    }

    /// <summary>A fresh one-time token for the resubscribe button, bound to the link the page is shown for.</summary>
    private Task<string> IssueConfirmationAsync(HttpRequest request) =>
        formTokens.IssueAsync(ResubscribePurpose, request.Query["t"].ToString(), options.Value.ResubscribeConfirmationLifetime, request.HttpContext.RequestAborted);

    private static string Language(HttpRequest request) =>
        NewsletterPages.ChooseLanguage(request.Headers.AcceptLanguage, request.Query["lang"]);

    private async Task<(IFormCollection? Form, IActionResult? Problem)> ReadFormAsync(HttpRequest request, string language)
    {
        var body = await RequestBody.ReadAsync(request, MaxBodyBytes, time, request.HttpContext.RequestAborted);
        switch (body.Outcome)
        {
            case BodyReadOutcome.TooLarge:
                return (null, Problem(request, StatusCodes.Status413PayloadTooLarge, "body-too-large", $"The body is over {MaxBodyBytes} bytes.", language));
            case BodyReadOutcome.TooSlow:
                return (null, Problem(request, StatusCodes.Status408RequestTimeout, "body-too-slow", "The body did not arrive in time.", language));
            case BodyReadOutcome.Unreadable:
                return (null, Problem(request, StatusCodes.Status400BadRequest, "body-unreadable", "The body could not be read.", language));
        }

        if (!request.HasFormContentType)
        {
            return (null, Problem(request, StatusCodes.Status415UnsupportedMediaType, "form-expected",
                "Send application/x-www-form-urlencoded or multipart/form-data.", language));
        }

        try
        {
            // The form is parsed from the bytes already read, never from the connection.
            request.Body = new MemoryStream(body.Bytes.ToArray(), writable: false);
            request.ContentLength = body.Bytes.Length;
            var options = new Microsoft.AspNetCore.Http.Features.FormOptions { ValueLengthLimit = MaxBodyBytes, MultipartBodyLengthLimit = MaxBodyBytes, ValueCountLimit = 16 };
            request.HttpContext.Features.Set<Microsoft.AspNetCore.Http.Features.IFormFeature>(new Microsoft.AspNetCore.Http.Features.FormFeature(request, options));
            return (await request.ReadFormAsync(request.HttpContext.RequestAborted), null);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or BadHttpRequestException)
        {
            return (null, Problem(request, StatusCodes.Status400BadRequest, "malformed-form", "The form body could not be read.", language));
        }
    }

    private static ContentResult Page(HttpRequest request, int status, NewsletterPage page, string language, string? token, string? confirmToken = null)
    {
        Harden(request.HttpContext.Response);
        return new ContentResult
        {
            StatusCode = status,
            ContentType = "text/html; charset=utf-8",
            Content = NewsletterPages.Render(page, language, token, confirmToken),
        };
    }

    /// <summary>A page for browsers, ProblemDetails for everything else, both with the same status.</summary>
    private static IActionResult Problem(HttpRequest request, int status, string type, string detail, string language, NewsletterPage page = NewsletterPage.BadRequest)
    {
        if (request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase)))
        {
            return Page(request, status, page, language, null);
        }

        Harden(request.HttpContext.Response);
        return new ObjectResult(new ProblemDetails { Type = ProblemBase + type, Title = "Newsletter request refused", Status = status, Detail = detail })
        {
            StatusCode = status,
            ContentTypes = { "application/problem+json" },
        };
    }

    /// <summary>Tokens sit in the URL: never cache the page or send it on as a Referer; nothing may be framed or loaded.</summary>
    private static void Harden(HttpResponse response)
    {
        response.Headers[HeaderNames.CacheControl] = "no-store";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers[HeaderNames.XContentTypeOptions] = "nosniff";
        response.Headers[HeaderNames.ContentSecurityPolicy] =
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    }
}
