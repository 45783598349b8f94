using Cafetalk.Integrations.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Cafetalk.Integrations.Newsletter;

/// <summary>
/// The HTTP side of the newsletter routes, shared by the Functions app and the local server. GET only shows a
/// page; POST is RFC 8058 one-click (urlencoded or multipart <c>List-Unsubscribe=One-Click</c>, no cookie, no
/// auth, idempotent, 200 without a redirect).
/// </summary>
public sealed class NewsletterEndpoints(NewsletterPreferences preferences, TimeProvider time)
{
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

        var page = view.Subscription!.Status == SubscriptionStatus.Unsubscribed ? NewsletterPage.Unsubscribed : NewsletterPage.Confirm;
        return Page(request, StatusCodes.Status200OK, page, language, request.Query["t"]);
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
        return result.ValidLink
            ? Page(request, StatusCodes.Status200OK, NewsletterPage.Unsubscribed, language, request.Query["t"])
            : Problem(request, StatusCodes.Status404NotFound, "invalid-link", "The unsubscribe link is not valid.", language, NewsletterPage.InvalidLink);
    }

    public async Task<IActionResult> ResubscribeAsync(HttpRequest request)
    {
        var language = Language(request);
        var (_, problem) = await ReadFormAsync(request, language);
        if (problem is not null)
        {
            return problem;
        }

        var result = await preferences.ResubscribeAsync(request.Query["t"], request.HttpContext.RequestAborted);
        return result.ValidLink
            ? Page(request, StatusCodes.Status200OK, NewsletterPage.Resubscribed, language, null)
            : Problem(request, StatusCodes.Status404NotFound, "invalid-link", "The link is not valid.", language, NewsletterPage.InvalidLink);
    }

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

    private static ContentResult Page(HttpRequest request, int status, NewsletterPage page, string language, string? token)
    {
        Harden(request.HttpContext.Response);
        return new ContentResult
        {
            StatusCode = status,
            ContentType = "text/html; charset=utf-8",
            Content = NewsletterPages.Render(page, language, token),
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
