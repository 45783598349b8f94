using Cafetalk.Integrations.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Cafetalk.Integrations.Functions.Zoom;

/// <summary><c>POST /api/zoom/start-link/{lecturerId}/{bookingId}</c>: the site fetches a fresh start link for a pool-hosted lesson.</summary>
public sealed class ZoomStartLinkFunction(ZoomStartLinkFlow flow, TimeProvider time)
{
    [Function(nameof(ZoomStartLinkFunction))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = ZoomStartLinkFlow.Route)] HttpRequest request,
        string lecturerId,
        string bookingId)
    {
        var body = await RequestBody.ReadAsync(request, ZoomStartLinkFlow.MaxBodyBytes, time, request.HttpContext.RequestAborted);
        var outcome = await flow.RequestAsync(body, request.Headers[ZoomStartLinkFlow.SiteKeyHeader], lecturerId, bookingId, request.HttpContext.RequestAborted);
        return outcome.ToResult(request);
    }
}
