using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Erasure;

/// <summary>Handles one <c>erasure-requests</c> message (a minimised <c>com.cafetalk.member.erasure-requested</c>).</summary>
public sealed class ErasureRequests(BookingEventParser parser, MemberErasure erasure, PoisonQueue poison, StorageAccount storage, ILogger<ErasureRequests> logger)
{
    /// <summary>Erases the member; throws <see cref="ErasureIncompleteException"/> so the host retries while a provider fails.</summary>
    public async Task<ErasureReceipt?> HandleAsync(string message, string? messageId, CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var parsed = parser.Parse(message);
        if (parsed.Member is not { Type: EventTypes.MemberErasureRequested } request)
        {
            var rejection = parsed.Rejection ?? new Rejection(RejectionReasons.UnknownType, "not an erasure request");
            var correlationId = parsed.CorrelationId(messageId);
            await poison.RejectAsync(QueueNames.ErasureRequests, message, rejection.Reason, rejection.Detail, correlationId, cancellationToken);
            logger.LogWarning("Rejected {Queue} message {CorrelationId}: {Reason}", QueueNames.ErasureRequests, correlationId, rejection.Reason);
            return null;
        }

        return await erasure.EraseAsync(request.MemberId, request.RequestId!, cancellationToken);
    }
}
