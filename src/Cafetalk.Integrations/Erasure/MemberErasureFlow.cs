using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Http;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Erasure;

/// <summary>
/// <c>POST /api/members/{id}/erasure?requestId=</c> for the privacy office: queues the member's erasure exactly as an
/// <c>erasure-requested</c> event from the booking system would be. Needs the privacy office's own key, not only a function key.
/// </summary>
public sealed class MemberErasureFlow(PrivacyOfficeCredential credential, StorageAccount storage, TimeProvider time)
{
    public const string Route = "members/{memberId}/erasure";

    /// <summary>The route takes its input from the path and query; a body is read only to refuse a large one before anything else.</summary>
    public const int MaxBodyBytes = 1024;

    /// <summary>Queues the erasure (202) or refuses it; <paramref name="presentedKey"/> is every value of the key header.</summary>
    public async Task<FlowOutcome> RequestAsync(BodyRead body, IReadOnlyList<string?> presentedKey, string memberId, string? requestId, CancellationToken cancellationToken = default)
    {
        if (body.Refusal(MaxBodyBytes) is { } refused)
        {
            return Problem(refused.Status, refused.Type, refused.Detail);
        }

        if (!credential.IsPresentedIn(presentedKey))
        {
            return Problem(401, "privacy-office-credential", $"This route needs the privacy office's key in the {PrivacyOfficeCredential.HeaderName} header.");
        }

        if (!TableKeys.IsValidId(memberId) || !TableKeys.IsValidId(requestId))
        {
            return Problem(400, "member-id", "The member id and requestId must be 1-64 characters of A-Z a-z 0-9 _ . -");
        }

        await storage.EnsureProvisionedAsync(cancellationToken);
        var message = BookingEventIntake.Minimised(new MemberEvent($"erase-{requestId}", EventTypes.MemberErasureRequested, memberId, RequestId: requestId, At: time.GetUtcNow()));
        await storage.Queue(QueueNames.ErasureRequests).SendMessageAsync(message, cancellationToken);
        return new FlowOutcome.Answer(202, new { requestId, status = "queued" });
    }

    private static FlowOutcome.Refused Problem(int status, string type, string detail) =>
        new(status, new FlowProblem("https://cafetalk.com/problems/erasure/" + type, "Erasure request refused", detail));
}
