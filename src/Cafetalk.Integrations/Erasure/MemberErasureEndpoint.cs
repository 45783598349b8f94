using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Cafetalk.Integrations.Erasure;

/// <summary>
/// <c>POST /api/members/{id}/erasure?requestId=</c> for the privacy office: queues the member's erasure exactly as an
/// <c>erasure-requested</c> event from the booking system would be. Needs the privacy office's own key, not only a function key.
/// </summary>
public sealed class MemberErasureEndpoint(PrivacyOfficeCredential credential, StorageAccount storage, TimeProvider time)
{
    public const string Route = "members/{memberId}/erasure";

    /// <summary>The route takes its input from the path and query; a body is read only to refuse a large one before anything else.</summary>
    public const int MaxBodyBytes = 1024;

    public async Task<IActionResult> PostAsync(HttpRequest request, string memberId)
    {
        var read = await Http.RequestBody.ReadAsync(request, MaxBodyBytes, time, request.HttpContext.RequestAborted);
        if (read.Refusal(MaxBodyBytes) is { } refused)
        {
            return Problem(refused.Status, refused.Type, refused.Detail);
        }

        if (!credential.IsPresentedBy(request))
        {
            return Problem(StatusCodes.Status401Unauthorized, "privacy-office-credential", $"This route needs the privacy office's key in the {PrivacyOfficeCredential.HeaderName} header.");
        }

        var requestId = request.Query["requestId"].FirstOrDefault();
        if (!BookingEventParser.IsValidId(memberId) || !BookingEventParser.IsValidId(requestId))
        {
            return Problem(StatusCodes.Status400BadRequest, "member-id", "The member id and requestId must be 1-64 characters of A-Z a-z 0-9 _ . -");
        }

        var cancellationToken = request.HttpContext.RequestAborted;
        await storage.EnsureProvisionedAsync(cancellationToken);
        var message = BookingEventIntake.Minimised(new MemberEvent($"erase-{requestId}", EventTypes.MemberErasureRequested, memberId, RequestId: requestId, At: time.GetUtcNow()));
        await storage.Queue(QueueNames.ErasureRequests).SendMessageAsync(message, cancellationToken);
        return new ObjectResult(new { requestId, status = "queued" }) { StatusCode = StatusCodes.Status202Accepted };
    }

    private static ObjectResult Problem(int status, string type, string detail) =>
        new(new ProblemDetails { Type = "https://cafetalk.com/problems/erasure/" + type, Title = "Erasure request refused", Status = status, Detail = detail })
        {
            StatusCode = status,
            ContentTypes = { "application/problem+json" },
        };
}
