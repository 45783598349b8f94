using Cafetalk.Integrations.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Cafetalk.Integrations.Functions.Zoom;

/// <summary><c>POST /api/zoom/webhook</c>: reads the raw body (bounded in size and time) and hands it to the core webhook handler.</summary>
public sealed class ZoomWebhookFunction(ZoomWebhookHandler handler, TimeProvider time)
{
    public const string ProblemTypeBase = "https://cafetalk.com/problems/zoom-webhook/";

    [Function(nameof(ZoomWebhookFunction))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "zoom/webhook")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(request, ZoomWebhookHandler.MaxBodyBytes, time, cancellationToken);
        if (body.Refusal(ZoomWebhookHandler.MaxBodyBytes) is { } refused)
        {
            return Problem(refused.Status, refused.Type, refused.Detail);
        }

        var result = await handler.HandleAsync(
            body.Bytes,
            request.Headers[ZoomWebhookVerifier.TimestampHeader].ToString(),
            request.Headers[ZoomWebhookVerifier.SignatureHeader].ToString(),
            cancellationToken);

        return result.Outcome switch
        {
            ZoomWebhookOutcome.UrlValidated => new ContentResult { StatusCode = StatusCodes.Status200OK, ContentType = "application/json", Content = result.ResponseJson },
            ZoomWebhookOutcome.Unauthorized => Problem(StatusCodes.Status401Unauthorized, "signature", result.Detail),
            ZoomWebhookOutcome.BadRequest => Problem(StatusCodes.Status400BadRequest, "bad-body", result.Detail),
            ZoomWebhookOutcome.TooLarge => Problem(StatusCodes.Status413PayloadTooLarge, "too-large", result.Detail),
            _ => new OkObjectResult(new { status = result.Outcome.ToString().ToLowerInvariant() }),
        };
    }

    private static ObjectResult Problem(int status, string type, string? detail) => FlowResponses.Problem(status, ProblemTypeBase + type, "Zoom webhook refused", detail);
}
