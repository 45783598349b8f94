using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Zoom;

/// <summary>
/// Runs the meeting converger for one <c>zoom-converge</c> message. Work that must wait — a host's daily limit,
/// a booking another instance is creating — goes back on the queue, invisible until it may run; it is never
/// retried hot and never poisoned for it. Other failures throw so the host retries them.
/// </summary>
public sealed class ZoomConvergeHandler(
    MeetingConverger converger,
    QueueRescheduler rescheduler,
    PoisonQueue poison,
    StorageAccount storage,
    ILogger<ZoomConvergeHandler> logger)
{
    public async Task<MeetingConvergeResult?> HandleAsync(string message, string? messageId, CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var correlationId = messageId ?? Guid.NewGuid().ToString("N");
        if (ConvergeRequest.TryParse(message) is not { } request)
        {
            await poison.RejectAsync(QueueNames.ZoomConverge, message, RejectionReasons.InvalidField, "message is not {lecturerId, bookingId}", correlationId, cancellationToken);
            logger.LogWarning("Rejected {Queue} message {CorrelationId}: not a converge request", QueueNames.ZoomConverge, correlationId);
            return null;
        }

        try
        {
            var result = await converger.ConvergeAsync(request.LecturerId, request.BookingId, correlationId, cancellationToken);
            if (result is { Outcome: MeetingConvergence.Deferred, RetryAtUtc: { } retryAt })
            {
                await rescheduler.RescheduleAsync(QueueNames.ZoomConverge, message, retryAt, cancellationToken);
                logger.LogInformation("Booking {BookingId} is held by another converger; retrying at {RetryAtUtc:O}", request.BookingId, retryAt);
            }

            return result;
        }
        catch (ZoomDailyLimitReachedException ex)
        {
            await rescheduler.RescheduleAsync(QueueNames.ZoomConverge, message, ex.RetryAfterUtc, cancellationToken);
            logger.LogWarning("Zoom host {HostId} is at its daily limit; booking {BookingId} converges after {RetryAtUtc:O}", ex.HostId, request.BookingId, ex.RetryAfterUtc);
            return new MeetingConvergeResult(MeetingConvergence.Deferred, RetryAtUtc: ex.RetryAfterUtc);
        }
    }
}
