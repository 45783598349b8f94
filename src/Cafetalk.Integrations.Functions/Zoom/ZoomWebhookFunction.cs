using Cafetalk.Integrations.Zoom;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Cafetalk.Integrations.Functions.Zoom;

/// <summary><c>POST /api/zoom/webhook</c>: reads the raw body and hands it to the core webhook handler.</summary>
public sealed class ZoomWebhookFunction(ZoomWebhookHandler handler)
{
    public const string ProblemTypeBase = "https://cafetalk.com/problems/zoom-webhook/";

    [Function(nameof(ZoomWebhookFunction))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "zoom/webhook")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        if (request.ContentLength > ZoomWebhookHandler.MaxBodyBytes)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "too-large", $"body is over {ZoomWebhookHandler.MaxBodyBytes} bytes");
        }

        // One byte over the limit is enough to know it is too large; the handler answers 413.
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0 && buffer.Length <= ZoomWebhookHandler.MaxBodyBytes)
            {
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException ex)
        {
            // The server refused the body itself (over its own limit, or cut short): the caller's fault, not ours.
            return ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? Problem(StatusCodes.Status413PayloadTooLarge, "too-large", $"body is over {ZoomWebhookHandler.MaxBodyBytes} bytes")
                : Problem(StatusCodes.Status400BadRequest, "bad-body", "the body could not be read");
        }

        var result = await handler.HandleAsync(
            buffer.GetBuffer().AsMemory(0, (int)buffer.Length),
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

    private static ObjectResult Problem(int status, string type, string? detail) => new(new ProblemDetails
    {
        Type = ProblemTypeBase + type,
        Title = "Zoom webhook refused",
        Status = status,
        Detail = detail,
    })
    {
        StatusCode = status,
        ContentTypes = { "application/problem+json" },
    };
}
