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
    /// The request, or null unless both ids are ids the pipeline writes (they are table keys: an id such as "a/b" would make
    /// every converger's table read fail, and the message would be retried instead of refused).
    /// </summary>
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
/// message per converge queue of <see cref="QueuesFor"/>. A crash between the state write and these messages leaves the row's <c>ConvergeRequestedVersion</c>
/// behind its version, so the host's retry of the same event sends them again (<see cref="ApplyResult.RequestsPending"/>).
/// </summary>
public sealed class ConvergeRequests(StorageAccount storage)
{
    private static readonly IReadOnlyList<string> MeetingAndCalendar = [QueueNames.ZoomConverge, QueueNames.CalendarConverge];
    private static readonly IReadOnlyList<string> MeetingOnly = [QueueNames.ZoomConverge];

    /// <summary>
    /// The converge queues a change to <paramref name="status"/> concerns: the recording converger only deletes a
    /// cancelled booking's video (uploads start from Zoom's webhook), so it hears of cancels alone. A new confirmed
    /// booking asks Zoom alone: its calendar event waits for the join link, and the Zoom converger asks the calendar
    /// converger once the meeting exists (a create that never completes is caught by the starts-soon check and the
    /// nightly calendar sync, which converge every booking whose row says Google lags).
    /// </summary>
    public static IReadOnlyList<string> QueuesFor(BookingStatus status, bool newBooking = false) => status switch
    {
        BookingStatus.Cancelled => QueueNames.ConvergeQueues,
        BookingStatus.Confirmed when newBooking => MeetingOnly,
        _ => MeetingAndCalendar,
    };

    public async Task RequestAsync(string lecturerId, string bookingId, BookingStatus status, bool newBooking = false, CancellationToken cancellationToken = default)
    {
        var message = new ConvergeRequest(lecturerId, bookingId).ToJson();
        foreach (var queue in QueuesFor(status, newBooking))
        {
            await storage.Queue(queue).SendMessageAsync(message, cancellationToken);
        }
    }
}
