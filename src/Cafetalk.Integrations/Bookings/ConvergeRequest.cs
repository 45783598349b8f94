using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Bookings;

/// <summary>
/// A message on a converge queue: which booking a provider must be made to match. Ids only, and two optional hand-offs
/// between convergers: <see cref="Then"/>, the converge queues to ask once this one is done (the calendar after the
/// meeting, whose join link its event shows), and <see cref="SentMarkers"/>, the outbox markers the previous converger
/// sent before it asked (<see cref="SiteOutbox.Digest"/>: a column and a digest, no data), which this one clears in its
/// own fact write.
/// </summary>
public sealed record ConvergeRequest(
    [property: JsonPropertyName("lecturerId")] string LecturerId,
    [property: JsonPropertyName("bookingId")] string BookingId)
{
    /// <summary>At most this many markers are handed on: there are five outbox types.</summary>
    internal const int MaxSentMarkers = 8;

    private static readonly JsonSerializerOptions Options = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    [JsonPropertyName("then")]
    public IReadOnlyList<string>? Then { get; init; }

    [JsonPropertyName("sentMarkers")]
    public IReadOnlyList<string>? SentMarkers { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>Equal when every field is, lists compared item by item (a message read back equals the one sent).</summary>
    public bool Equals(ConvergeRequest? other) =>
        other is not null && LecturerId == other.LecturerId && BookingId == other.BookingId
        && (Then ?? []).SequenceEqual(other.Then ?? []) && (SentMarkers ?? []).SequenceEqual(other.SentMarkers ?? []);

    public override int GetHashCode() => HashCode.Combine(LecturerId, BookingId, Then?.Count ?? 0, SentMarkers?.Count ?? 0);

    /// <summary>Whether the converger must ask <paramref name="queue"/> once it is done.</summary>
    public bool AsksAfter(string queue) => Then?.Contains(queue) == true;

    /// <summary>
    /// The request as a converge queue reads it, refused unless both ids are ids the pipeline writes (they are table keys: an
    /// id such as "a/b" would make every converger's table read fail, and the message would be retried instead of refused).
    /// </summary>
    public static QueueMessageReading<ConvergeRequest> Read(string message) => TryParse(message) is { } request
        ? QueueMessageReading.Read(request)
        : QueueMessageReading.Refused<ConvergeRequest>(RejectionReasons.InvalidField, "message is not {lecturerId, bookingId[, then, sentMarkers]}");

    /// <summary>The request, or null: see <see cref="Read"/>.</summary>
    public static ConvergeRequest? TryParse(string message)
    {
        try
        {
            // Read as the UTF-8 a queue delivers, so text no encoder accepts is refused rather than thrown on.
            return JsonSerializer.Deserialize<ConvergeRequest>(Encoding.UTF8.GetBytes(message)) is { } request
                && TableKeys.IsValidId(request.LecturerId) && TableKeys.IsValidId(request.BookingId)
                && (request.Then is null || request.Then.All(q => q == QueueNames.CalendarConverge))
                && (request.SentMarkers is null || (request.SentMarkers.Count <= MaxSentMarkers && request.SentMarkers.All(SiteOutbox.IsDigest)))
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
/// message per converge queue of <see cref="QueuesFor"/>, except that the calendar is asked by the meeting converger
/// once it is done (<see cref="ConvergeRequest.Then"/>): the event shows the meeting's join link, a reschedule can move
/// the meeting to another host, and the calendar converger's fact write then clears the meeting notification's outbox
/// marker for free (a converger asked alongside could not know it had been sent). A crash between the state write and
/// these messages is
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

    /// <summary>
    /// Asks each of <paramref name="queues"/>, the calendar through the meeting converger's request when both are asked;
    /// returns the queues a message went to.
    /// </summary>
    public async Task<IReadOnlyList<string>> RequestAsync(string lecturerId, string bookingId, IReadOnlyList<string> queues, CancellationToken cancellationToken = default)
    {
        var calendarAfterMeeting = queues.Contains(QueueNames.ZoomConverge) && queues.Contains(QueueNames.CalendarConverge);
        var sent = new List<string>();
        foreach (var queue in queues.Where(q => !(calendarAfterMeeting && q == QueueNames.CalendarConverge)))
        {
            var request = new ConvergeRequest(lecturerId, bookingId) { Then = calendarAfterMeeting && queue == QueueNames.ZoomConverge ? [QueueNames.CalendarConverge] : null };
            await storage.Queue(queue).SendMessageAsync(request.ToJson(), cancellationToken);
            sent.Add(queue);
        }

        return sent;
    }
}
