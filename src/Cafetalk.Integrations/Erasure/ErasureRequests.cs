using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Erasure;

/// <summary>Handles one <c>erasure-requests</c> message (a minimised <c>com.cafetalk.member.erasure-requested</c>).</summary>
public sealed class ErasureRequests(BookingEventParser parser, MemberErasure erasure, QueueMessageRunner runner)
{
    /// <summary>Erases the member; throws <see cref="ErasureIncompleteException"/> so the host retries while a provider fails.</summary>
    public Task<ErasureReceipt?> HandleAsync(string message, string? messageId, CancellationToken cancellationToken = default) =>
        runner.RunAsync<MemberEvent, ErasureReceipt?>(QueueNames.ErasureRequests, message, messageId,
            text => parser.Parse(text).AsMemberEvent(EventTypes.MemberErasureRequested, "not an erasure request"),
            async (request, ct) => await erasure.EraseAsync(request.Value.MemberId, request.Value.RequestId!, ct),
            cancellationToken: cancellationToken);
}
