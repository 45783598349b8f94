using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>
/// Runs the event converger for one <c>calendar-converge</c> message. A lecturer who is not connected or whose grant
/// was revoked ends the message at once (never retried); other failures throw so the host retries them.
/// </summary>
public sealed class CalendarConvergeHandler(CalendarEventConverger converger, PoisonQueue poison, StorageAccount storage, QueueRescheduler rescheduler, ILogger<CalendarConvergeHandler> logger)
{
    public async Task<EventConvergeResult?> HandleAsync(string message, string? messageId, CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var correlationId = messageId ?? Guid.NewGuid().ToString("N");
        if (ConvergeRequest.TryParse(message) is not { } request)
        {
            await poison.RejectAsync(QueueNames.CalendarConverge, message, RejectionReasons.InvalidField, "message is not {lecturerId, bookingId}", correlationId, cancellationToken);
            logger.LogWarning("Rejected {Queue} message {CorrelationId}: not a converge request", QueueNames.CalendarConverge, correlationId);
            return null;
        }

        var result = await converger.ConvergeAsync(request.LecturerId, request.BookingId, correlationId, cancellationToken);
        if (result is { Outcome: EventConvergence.AwaitingJoinLink or EventConvergence.InsertInProgress, RetryAtUtc: { } retryAt })
        {
            // Not lost if Zoom never delivers or the claimer crashed: this copy comes back and looks again.
            await rescheduler.RescheduleAsync(QueueNames.CalendarConverge, message, retryAt, cancellationToken);
        }

        return result;
    }
}
