using Cafetalk.Integrations.Newsletter;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Cafetalk.Integrations.Functions.Newsletter;

/// <summary>The newsletter routes: a confirmation page on GET, RFC 8058 one-click and resubscribe on POST.</summary>
public sealed class NewsletterFunctions(NewsletterEndpoints endpoints)
{
    [Function(nameof(NewsletterUnsubscribePage))]
    public Task<IActionResult> NewsletterUnsubscribePage(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = NewsletterEndpoints.UnsubscribeRoute)] HttpRequest request) =>
        endpoints.ShowAsync(request);

    [Function(nameof(NewsletterUnsubscribe))]
    public Task<IActionResult> NewsletterUnsubscribe(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = NewsletterEndpoints.UnsubscribeRoute)] HttpRequest request) =>
        endpoints.UnsubscribeAsync(request);

    [Function(nameof(NewsletterResubscribe))]
    public Task<IActionResult> NewsletterResubscribe(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = NewsletterEndpoints.ResubscribeRoute)] HttpRequest request) =>
        endpoints.ResubscribeAsync(request);
}
