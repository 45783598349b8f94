using System.Globalization;
using System.Net.Mime;
using System.Text;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Bookings;

/// <summary>What intake did with one message.</summary>
public enum IntakeDisposition
{
    /// <summary>A booking's desired state was created or moved to a newer version.</summary>
    Applied,
    /// <summary>A redelivery or a late, older event: valid, and nothing needed to change.</summary>
    Unchanged,
    /// <summary>A member event, minimised and passed on to its handler's queue.</summary>
    Forwarded,
    /// <summary>Refused and moved to <c>booking-events-poison</c> with its reason.</summary>
    Rejected,
    /// <summary>A booking event naming an erased member: dropped, so nothing of theirs is stored or shared again.</summary>
    Dropped,
}

/// <summary>The result of one message: its disposition, the reason if refused, and the id to trace it by.</summary>
public sealed record IntakeOutcome(IntakeDisposition Disposition, string CorrelationId, Rejection? Rejection = null, string? BookingId = null);

/// <summary>
/// The queue's front door: validates a message, drops every field the pipeline does not need, and updates the
/// booking's desired state. Bad messages are poisoned at once with their reason; storage failures throw so the
/// host retries them.
/// </summary>
public sealed class BookingEventIntake(
    BookingEventParser parser,
    BookingStateStore states,
    ConvergeRequests converge,
    SubjectRegistry subjects,
    PoisonQueue poison,
    StorageAccount storage,
    IntakeMetrics metrics,
    ILogger<BookingEventIntake> logger)
{
    private static readonly JsonEventFormatter Formatter = new();

    public async Task<IntakeOutcome> ProcessAsync(string message, string? messageId, CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var parsed = parser.Parse(message);
        var correlationId = parsed.CorrelationId(messageId);
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["CorrelationId"] = correlationId });

        if (parsed.Rejection is { } rejection)
        {
            await poison.RejectAsync(QueueNames.BookingEvents, message, rejection.Reason, rejection.Detail, correlationId, cancellationToken);
            metrics.Rejected(rejection.Reason);
            logger.LogWarning("Rejected message {CorrelationId}: {Reason} ({Detail}); moved to {PoisonQueue}",
                correlationId, rejection.Reason, rejection.Detail, QueueNames.BookingEventsPoison);
            return new IntakeOutcome(IntakeDisposition.Rejected, correlationId, rejection);
        }

        if (parsed.Booking is { } booking)
        {
            if (await subjects.AnyErasedAsync([booking.LecturerId, booking.StudentId], cancellationToken))
            {
                // Not poisoned: the event is well formed, and keeping it would keep the erased member's ids.
                metrics.Processed(booking.Type, nameof(IntakeDisposition.Dropped));
                logger.LogInformation("Booking {BookingId} event {EventType} v{Version} names an erased member: dropped", booking.BookingId, booking.Type, booking.Version);
                return new IntakeOutcome(IntakeDisposition.Dropped, correlationId, BookingId: booking.BookingId);
            }

            var result = await states.ApplyAsync(booking, cancellationToken);
            if (result != ApplyResult.Unchanged)
            {
                // Marked only once every request is on its queue: a worker killed in between leaves the mark behind,
                // and the host's retry of this message sends them again (RequestsPending).
                await converge.RequestAsync(booking.LecturerId, booking.BookingId, booking.Status, newBooking: result == ApplyResult.Created, cancellationToken);
                await states.MarkConvergeRequestedAsync(booking.LecturerId, booking.BookingId, booking.Version, cancellationToken);
            }

            var disposition = result is ApplyResult.Created or ApplyResult.Updated ? IntakeDisposition.Applied : IntakeDisposition.Unchanged;
            metrics.Processed(booking.Type, result.ToString());
            logger.LogInformation("Booking {BookingId} event {EventType} v{Version}: desired state {ApplyResult}",
                booking.BookingId, booking.Type, booking.Version, result);
            return new IntakeOutcome(disposition, correlationId, BookingId: booking.BookingId);
        }

        // Forwarded under the correlation id, so the member queue's handler files it under the same id.
        var member = parsed.Member! with { EventId = correlationId };
        var queue = QueueForMemberEvent(member.Type);
        await storage.Queue(queue).SendMessageAsync(Minimised(member), cancellationToken);
        metrics.Processed(member.Type, nameof(IntakeDisposition.Forwarded));
        logger.LogInformation("Member event {EventType} {CorrelationId} forwarded to {Queue}", member.Type, correlationId, queue);
        return new IntakeOutcome(IntakeDisposition.Forwarded, correlationId);
    }

    /// <summary>The queue each kind of member event is handed to.</summary>
    internal static string QueueForMemberEvent(string type) =>
        type == EventTypes.MemberErasureRequested ? QueueNames.ErasureRequests : QueueNames.NewsletterEvents;

    /// <summary>Re-encodes a member event with only the fields its handler needs.</summary>
    internal static string Minimised(MemberEvent member)
    {
        var data = new Dictionary<string, string?> { ["memberId"] = member.MemberId };
        if (member.Type == EventTypes.MemberErasureRequested)
        {
            data["requestId"] = member.RequestId;
            data["requestedAt"] = member.At?.ToString("O", CultureInfo.InvariantCulture);
        }
        else
        {
            data["list"] = member.List;
            data["email"] = member.Email;
            data["locale"] = member.Locale;
            data["consentRecordId"] = member.ConsentRecordId;
            data["consentedAt"] = member.At?.ToString("O", CultureInfo.InvariantCulture);
        }

        var cloudEvent = new CloudEvent
        {
            Id = member.EventId,
            Type = member.Type,
            Source = new Uri("/cafetalk-integrations/intake", UriKind.Relative),
            DataContentType = MediaTypeNames.Application.Json,
            Data = data,
        };
        var bytes = Formatter.EncodeStructuredModeMessage(cloudEvent, out _);
        return Encoding.UTF8.GetString(bytes.Span);
    }
}
