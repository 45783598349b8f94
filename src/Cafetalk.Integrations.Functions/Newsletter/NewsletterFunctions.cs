using Cafetalk.Integrations.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Cafetalk.Integrations.Functions.Newsletter;

/// <summary>The newsletter routes: a confirmation page on GET, RFC 8058 one-click and resubscribe on POST.</summary>
public sealed class NewsletterFunctions(NewsletterFlow flow, TimeProvider time)
{
    [Function(nameof(NewsletterUnsubscribePage))]
    public async Task<IActionResult> NewsletterUnsubscribePage(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = NewsletterFlow.UnsubscribeRoute)] HttpRequest request) =>
        (await flow.ShowAsync(request.Query["t"], RequestLanguage.Of(request), request.HttpContext.RequestAborted)).ToResult(request);

    [Function(nameof(NewsletterUnsubscribe))]
    public async Task<IActionResult> NewsletterUnsubscribe(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = NewsletterFlow.UnsubscribeRoute)] HttpRequest request)
    {
        var form = await PostedForms.ReadAsync(request, NewsletterFlow.MaxBodyBytes, time, request.HttpContext.RequestAborted);
        return (await flow.UnsubscribeAsync(request.Query["t"], form, RequestLanguage.Of(request), request.HttpContext.RequestAborted)).ToResult(request);
    }

    [Function(nameof(NewsletterResubscribe))]
    public async Task<IActionResult> NewsletterResubscribe(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = NewsletterFlow.ResubscribeRoute)] HttpRequest request)
    {
        var form = await PostedForms.ReadAsync(request, NewsletterFlow.MaxBodyBytes, time, request.HttpContext.RequestAborted);
        var outcome = await flow.ResubscribeAsync(request.Query["t"], form, SameOriginRequests.IsSameOrigin(request), RequestLanguage.Of(request), request.HttpContext.RequestAborted);
        return outcome.ToResult(request);
    }
}
