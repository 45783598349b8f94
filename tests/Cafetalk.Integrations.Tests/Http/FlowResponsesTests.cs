using Cafetalk.Integrations.Http;
using Cafetalk.Integrations.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Cafetalk.Integrations.Tests.Http;

/// <summary>The one adapter from flow outcomes to HTTP answers: status, body, cookie and the security headers on every answer.</summary>
public sealed class FlowResponsesTests
{
    private const string BaseCsp = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

    private static HttpRequest Request(string? accept = null)
    {
        var context = new DefaultHttpContext();
        if (accept is not null)
        {
            context.Request.Headers.Accept = accept;
        }

        return context.Request;
    }

    public static TheoryData<FlowOutcome> EveryKind() =>
    [
        new FlowOutcome.Redirect(new Uri("https://accounts.example/auth?state=s")),
        new FlowOutcome.Page(200, "<p>ok</p>"),
        new FlowOutcome.Refused(400, new FlowProblem("https://cafetalk.com/problems/x/y", "Refused", "Because.")),
        new FlowOutcome.Answer(202, new { status = "queued" }),
        new FlowOutcome.Document("text/csv; charset=utf-8", [1, 2, 3], "disclosures-stu_1.csv"),
    ];

    [Theory]
    [MemberData(nameof(EveryKind))]
    public void EveryOutcome_IsNeverCachedNorSentOnAsRefererNorFramed(FlowOutcome outcome)
    {
        var request = Request();

        outcome.ToResult(request);

        var headers = request.HttpContext.Response.Headers;
        Assert.Equal("no-store", headers.CacheControl.ToString());
        Assert.Equal("no-referrer", headers["Referrer-Policy"].ToString());
        Assert.Equal("nosniff", headers.XContentTypeOptions.ToString());
        Assert.Equal(BaseCsp, headers.ContentSecurityPolicy.ToString());
    }

    [Fact]
    public void PageWithForms_NamesWhereTheyMayPost()
    {
        var request = Request();

        var result = Assert.IsType<ContentResult>(new FlowOutcome.Page(403, "<form></form>") { FormAction = "'self' https://accounts.example" }.ToResult(request));

        Assert.Equal(403, result.StatusCode);
        Assert.Equal("text/html; charset=utf-8", result.ContentType);
        Assert.Equal("<form></form>", result.Content);
        Assert.Equal("default-src 'none'; style-src 'unsafe-inline'; form-action 'self' https://accounts.example; frame-ancestors 'none'; base-uri 'none'",
            request.HttpContext.Response.Headers.ContentSecurityPolicy.ToString());
    }

    [Fact]
    public void Redirect_AfterAGet_Is302_AfterAPost_Is303WithLocation()
    {
        var to = new Uri("https://accounts.example/auth?state=s");

        var found = Assert.IsType<RedirectResult>(new FlowOutcome.Redirect(to).ToResult(Request()));
        var request = Request();
        var seeOther = Assert.IsType<StatusCodeResult>(new FlowOutcome.Redirect(to, AfterPost: true).ToResult(request));

        Assert.Equal((to.ToString(), false), (found.Url, found.Permanent));
        Assert.Equal(303, seeOther.StatusCode);
        Assert.Equal(to.ToString(), request.HttpContext.Response.Headers.Location.ToString());
    }

    [Fact]
    public void Refused_IsProblemDetails_UnlessTheClientAcceptsHtmlAndTheFlowHasAPage()
    {
        var refused = new FlowOutcome.Refused(404, new FlowProblem("https://cafetalk.com/problems/newsletter/invalid-link", "Newsletter request refused", "The link is not valid."), "<p>invalid</p>");

        var problem = Assert.IsType<ObjectResult>(refused.ToResult(Request("application/json")));
        var page = Assert.IsType<ContentResult>(refused.ToResult(Request("text/html,application/xhtml+xml")));
        var withoutPage = Assert.IsType<ObjectResult>((refused with { BrowserPage = null }).ToResult(Request("text/html")));

        var details = Assert.IsType<ProblemDetails>(problem.Value);
        Assert.Equal((404, "https://cafetalk.com/problems/newsletter/invalid-link", "The link is not valid.", 404), (problem.StatusCode!.Value, details.Type, details.Detail, details.Status!.Value));
        Assert.Equal(["application/problem+json"], problem.ContentTypes);
        Assert.Equal((404, "<p>invalid</p>"), (page.StatusCode!.Value, page.Content));
        Assert.Equal(404, withoutPage.StatusCode);
    }

    [Fact]
    public void Cookie_IsSetSecureHttpOnlyLaxForTheWholeSite_AndExpiredWhenItHasNoValue()
    {
        var set = Request();
        var expire = Request();

        new FlowOutcome.Redirect(new Uri("https://accounts.example/")) { Cookie = new FlowCookie("__Host-state", "v4lue", TimeSpan.FromMinutes(10)) }.ToResult(set);
        new FlowOutcome.Page(400, "<p/>") { Cookie = new FlowCookie("__Host-state", null, TimeSpan.Zero) }.ToResult(expire);

        var setCookie = set.HttpContext.Response.Headers.SetCookie.ToString();
        Assert.StartsWith("__Host-state=v4lue;", setCookie, StringComparison.Ordinal);
        Assert.Contains("max-age=600", setCookie, StringComparison.Ordinal);
        foreach (var attribute in new[] { "path=/", "secure", "samesite=lax", "httponly" })
        {
            Assert.Contains(attribute, setCookie, StringComparison.Ordinal);
        }

        var expired = expire.HttpContext.Response.Headers.SetCookie.ToString();
        Assert.StartsWith("__Host-state=;", expired, StringComparison.Ordinal);
        Assert.Contains("expires=Thu, 01 Jan 1970", expired, StringComparison.Ordinal);
        Assert.Contains("secure", expired, StringComparison.Ordinal);
    }

    [Fact]
    public void Answer_IsJsonWithItsStatus_AndDocument_IsADownloadWhenNamed()
    {
        var answer = Assert.IsType<ObjectResult>(new FlowOutcome.Answer(202, new { status = "queued" }).ToResult(Request()));
        var download = Assert.IsType<FileContentResult>(new FlowOutcome.Document("text/csv; charset=utf-8", [0xEF, 0xBB, 0xBF, (byte)'a'], "disclosures-stu_1.csv").ToResult(Request()));
        var inline = Assert.IsType<FileContentResult>(new FlowOutcome.Document("application/json; charset=utf-8", "{}"u8.ToArray()).ToResult(Request()));

        Assert.Equal(202, answer.StatusCode);
        Assert.Equal((("text/csv; charset=utf-8"), "disclosures-stu_1.csv", 4), (download.ContentType, download.FileDownloadName, download.FileContents.Length));
        Assert.Equal(("application/json; charset=utf-8", string.Empty), (inline.ContentType, inline.FileDownloadName));
    }
}
