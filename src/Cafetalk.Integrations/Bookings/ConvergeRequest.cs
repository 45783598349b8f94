using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Bookings;

/// <summary>A message on a converge queue: which booking a provider must be made to match. Ids only.</summary>
public sealed record ConvergeRequest(
    [property: JsonPropertyName("lecturerId")] string LecturerId,
    [property: JsonPropertyName("bookingId")] string BookingId)
{
    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>
    /// The request as a converge queue reads it, refused unless both ids are ids the pipeline writes (they are table keys: an
    /// id such as "a/b" would make every converger's table read fail, and the message would be retried instead of refused).
    /// </summary>
    public static QueueMessageReading<ConvergeRequest> Read(string message) => TryParse(message) is { } request
        ? QueueMessageReading.Read(request)
        : QueueMessageReading.Refused<ConvergeRequest>(RejectionReasons.InvalidField, "message is not {lecturerId, bookingId}");

    /// <summary>The request, or null: see <see cref="Read"/>.</summary>
    public static ConvergeRequest? TryParse(string message)
    {
        try
        {
            // Read as the UTF-8 a queue delivers, so text no encoder accepts is refused rather than thrown on.
            return JsonSerializer.Deserialize<ConvergeRequest>(Encoding.UTF8.GetBytes(message)) is { } request
                && TableKeys.IsValidId(request.LecturerId) && TableKeys.IsValidId(request.BookingId)
                ? request
                : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}

/// <summary>
/// Asks each provider's converger that a change concerns to look at a booking whose desired state changed: one
/// message per converge queue of <see cref="QueuesFor"/>. A crash between the state write and these messages is
/// repaired by the host's retry of the same event, which finds its version stored and sends them again
/// (<see cref="ApplyResult.RequestsPending"/>).
/// </summary>
public sealed class ConvergeRequests(StorageAccount storage)
{
    private static readonly IReadOnlyList<string> Meeting = [QueueNames.ZoomConverge];
    private static readonly IReadOnlyList<string> MeetingAndCalendar = [QueueNames.ZoomConverge, QueueNames.CalendarConverge];

    /// <summary>
    /// The converge queues a change concerns. A new booking asks the meeting converger alone: its calendar event holds
    /// the join link, so the meeting converger asks the calendar converger once the meeting exists (a calendar
    /// converger asked sooner would only wait for it). The recording converger only deletes a cancelled booking's
    /// video, so it hears of a cancel only when the lesson <paramref name="mayHaveRecording"/> (uploads start from
    /// Zoom's webhook, and the archive discards a recording of a cancelled booking).
    /// </summary>
    public static IReadOnlyList<string> QueuesFor(BookingStatus status, bool newBooking = false, bool mayHaveRecording = true) =>
        status == BookingStatus.Cancelled ? (mayHaveRecording ? QueueNames.ConvergeQueues : MeetingAndCalendar)
        : newBooking ? Meeting
        : MeetingAndCalendar;

    /// <summary>Sends one request to each of <paramref name="queues"/>.</summary>
    public async Task RequestAsync(string lecturerId, string bookingId, IReadOnlyList<string> queues, CancellationToken cancellationToken = default)
    {
        var message = new ConvergeRequest(lecturerId, bookingId).ToJson();
        foreach (var queue in queues)
        {
            await storage.Queue(queue).SendMessageAsync(message, cancellationToken);
        }
    }
}
