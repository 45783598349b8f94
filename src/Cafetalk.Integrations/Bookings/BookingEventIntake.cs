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
public sealed record IntakeOutcome(IntakeDisposition Disposition, string CorrelationId, Rejection? Rejection = null, string? BookingId = null)
{
    /// <summary>The converge queues intake sent a request to (none for a late, older event); the calendar's rides the meeting converger's.</summary>
    public IReadOnlyList<string> AskedQueues { get; init; } = [];
}

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
    QueueMessageRunner runner,
    StorageAccount storage,
    IntakeMetrics metrics,
    ILogger<BookingEventIntake> logger)
{
    private static readonly JsonEventFormatter Formatter = new();

    public Task<IntakeOutcome> ProcessAsync(string message, string? messageId, CancellationToken cancellationToken = default) =>
        runner.RunAsync(QueueNames.BookingEvents, message, messageId, text => parser.Parse(text).AsReading(), ApplyAsync, Refused, cancellationToken);

    private IntakeOutcome Refused(QueueMessageReading<ParseResult> reading, string correlationId)
    {
        metrics.Rejected(reading.Reason!);
        return new IntakeOutcome(IntakeDisposition.Rejected, correlationId, new Rejection(reading.Reason!, reading.Detail!));
    }

    private async Task<IntakeOutcome> ApplyAsync(QueueMessage<ParseResult> message, CancellationToken cancellationToken)
    {
        var (parsed, correlationId) = (message.Value, message.CorrelationId);
        if (parsed.Booking is { } booking)
        {
            var (result, mayHaveRecording) = await states.ApplyChangeAsync(booking, token => subjects.AnyErasedAsync([booking.LecturerId, booking.StudentId], token), cancellationToken);
            if (result == ApplyResult.Erased)
            {
                // Not poisoned: the event is well formed, and keeping it would keep the erased member's ids.
                metrics.Processed(booking.Type, nameof(IntakeDisposition.Dropped));
                logger.LogInformation("Booking {BookingId} event {EventType} v{Version} names an erased member: dropped", booking.BookingId, booking.Type, booking.Version);
                return new IntakeOutcome(IntakeDisposition.Dropped, correlationId, BookingId: booking.BookingId);
            }

            IReadOnlyList<string> asked = [];
            if (result != ApplyResult.Unchanged)
            {
                // After the state write: a worker killed in between leaves the requests unsent, and the host's retry of
                // this message finds its version stored and sends them (RequestsPending).
                asked = await converge.RequestAsync(booking.LecturerId, booking.BookingId,
                    ConvergeRequests.QueuesFor(booking.Status, newBooking: result == ApplyResult.Created, mayHaveRecording), cancellationToken);
            }

            var disposition = result is ApplyResult.Created or ApplyResult.Updated ? IntakeDisposition.Applied : IntakeDisposition.Unchanged;
            metrics.Processed(booking.Type, result.ToString());
            logger.LogInformation("Booking {BookingId} event {EventType} v{Version}: desired state {ApplyResult}",
                booking.BookingId, booking.Type, booking.Version, result);
            return new IntakeOutcome(disposition, correlationId, BookingId: booking.BookingId) { AskedQueues = asked };
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
