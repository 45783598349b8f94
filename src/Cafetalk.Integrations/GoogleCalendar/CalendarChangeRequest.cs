using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>A <c>calendar-changes</c> message: the lecturer whose calendar Google said changed. Nothing else, nothing personal.</summary>
public sealed record CalendarChangeRequest([property: JsonPropertyName("lecturerId")] string LecturerId)
{
    public string ToJson() => JsonSerializer.Serialize(this);

    public static QueueMessageReading<CalendarChangeRequest> Read(string message)
    {
        try
        {
            return JsonSerializer.Deserialize<CalendarChangeRequest>(Encoding.UTF8.GetBytes(message)) is { } request && TableKeys.IsValidId(request.LecturerId)
                ? QueueMessageReading.Read(request)
                : QueueMessageReading.Refused<CalendarChangeRequest>(RejectionReasons.InvalidField, "message is not {lecturerId}");
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return QueueMessageReading.Refused<CalendarChangeRequest>(RejectionReasons.InvalidField, "message is not {lecturerId}");
        }
    }
}
