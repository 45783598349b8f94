using System.Diagnostics;
using Cafetalk.Integrations.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Cafetalk.Integrations.Web;

/// <summary>
/// The one place a <see cref="FlowOutcome"/> becomes an HTTP answer, for the Functions app and the local server alike:
/// the status and body, the flow's cookie, and the same security headers on every answer.
/// </summary>
public static class FlowResponses
{
    public static IActionResult ToResult(this FlowOutcome outcome, HttpRequest request)
    {
        var response = request.HttpContext.Response;
        Harden(response, outcome.FormAction);
        if (outcome.Cookie is { } cookie)
        {
            SetCookie(response, cookie);
        }

        return outcome switch
        {
            FlowOutcome.Redirect { AfterPost: false } redirect => new RedirectResult(redirect.To.ToString(), permanent: false),
            FlowOutcome.Redirect redirect => SeeOther(response, redirect.To),
            FlowOutcome.Page page => Html(page.Status, page.Html),
            FlowOutcome.Refused { BrowserPage: { } html } refused when AcceptsHtml(request) => Html(refused.Status, html),
            FlowOutcome.Refused refused => Problem(refused.Status, refused.Problem.Type, refused.Problem.Title, refused.Problem.Detail),
            FlowOutcome.Answer answer => new ObjectResult(answer.Body) { StatusCode = answer.Status },
            FlowOutcome.Document document => new FileContentResult(document.Content, document.ContentType) { FileDownloadName = document.DownloadName },
            _ => throw new UnreachableException($"No response for {outcome.GetType().Name}."),
        };
    }

    /// <summary>An RFC 9457 problem answer: every refusal of an HTTP route (flows, webhooks, notifications) has this one shape.</summary>
    public static ObjectResult Problem(int status, string type, string title, string? detail) => new(new ProblemDetails
    {
        Type = type,
        Title = title,
        Status = status,
        Detail = detail,
    })
    {
        StatusCode = status,
        ContentTypes = { "application/problem+json" },
    };

    /// <summary>After a POST: 303, so the browser follows with a GET.</summary>
    private static StatusCodeResult SeeOther(HttpResponse response, Uri to)
    {
        response.Headers.Location = to.ToString();
        return new StatusCodeResult(StatusCodes.Status303SeeOther);
    }

    private static ContentResult Html(int status, string html) => new() { StatusCode = status, ContentType = "text/html; charset=utf-8", Content = html };

    /// <summary>Browsers get a page, everything else ProblemDetails.</summary>
    private static bool AcceptsHtml(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase));

    /// <summary>Flows set only their own short-lived state cookie: never readable by script, never sent on a cross-site subrequest.</summary>
    private static void SetCookie(HttpResponse response, FlowCookie cookie)
    {
        var options = new CookieOptions { Secure = true, HttpOnly = true, SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Lax, Path = "/" };
        if (cookie.Value is null)
        {
            response.Cookies.Delete(cookie.Name, options);
            return;
        }

        options.MaxAge = cookie.MaxAge;
        options.IsEssential = true;
        response.Cookies.Append(cookie.Name, cookie.Value, options);
    }

    /// <summary>Links, states and codes sit in URLs: never cache, never send them on as a Referer, never be framed or load anything.</summary>
    private static void Harden(HttpResponse response, string? formAction)
    {
        response.Headers[HeaderNames.CacheControl] = "no-store";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers[HeaderNames.XContentTypeOptions] = "nosniff";
        var forms = formAction is null ? string.Empty : $" form-action {formAction};";
        response.Headers[HeaderNames.ContentSecurityPolicy] = $"default-src 'none'; style-src 'unsafe-inline';{forms} frame-ancestors 'none'; base-uri 'none'";
    }
}
