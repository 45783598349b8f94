using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cafetalk.Integrations.Zoom;

/// <summary>
/// A <c>zoom-events</c> message as <see cref="Zoom.ZoomWebhookHandler"/> writes it. For <c>recording.completed</c> it
/// holds the files' download URLs and Zoom's 24-hour download token: secrets, never logged or echoed.
/// </summary>
public sealed record ZoomEventMessage(
    [property: JsonPropertyName("event")] string? Event,
    [property: JsonPropertyName("eventTs")] long? EventTs,
    [property: JsonPropertyName("meetingId")] long? MeetingId,
    [property: JsonPropertyName("meetingUuid")] string? MeetingUuid,
    [property: JsonPropertyName("downloadToken")] string? DownloadToken,
    [property: JsonPropertyName("recordingFiles")] IReadOnlyList<ZoomEventRecordingFile>? RecordingFiles,
    [property: JsonPropertyName("eventKey")] string? EventKey,
    [property: JsonPropertyName("startTime")] string? StartTime = null,
    [property: JsonPropertyName("duration")] int? DurationMinutes = null)
{
    public const string RecordingCompleted = "recording.completed";
    public const string MeetingDeleted = "meeting.deleted";
    public const string MeetingUpdated = "meeting.updated";

    // Zoom's event_ts is Unix milliseconds; anything outside 1970 to 9999-12-29 (room for the token's 24 hours) is no time Zoom sent.
    private const long MaxEventTs = 253_402_127_999_999;

    /// <summary>The message, or null when it is not JSON, has no event name, or an event time no calendar holds.</summary>
    public static ZoomEventMessage? TryParse(string message)
    {
        try
        {
            // Read as the UTF-8 a queue delivers, so text no encoder accepts is refused rather than thrown on.
            return JsonSerializer.Deserialize<ZoomEventMessage>(Encoding.UTF8.GetBytes(message)) is { Event.Length: > 0 } parsed
                && parsed.EventTs is null or (>= 0 and <= MaxEventTs)
                ? parsed
                : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>When Zoom sent the event; its download token counts 24 hours from then.</summary>
    public DateTimeOffset? SentAtUtc => EventTs is >= 0 and <= MaxEventTs and long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    /// <summary>How Zoom's recording endpoints name this meeting instance: its UUID, else the meeting id.</summary>
    public string? MeetingKey => MeetingUuid is { Length: > 0 } uuid ? uuid : MeetingId?.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

public sealed record ZoomEventRecordingFile(
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("fileType")] string? FileType,
    [property: JsonPropertyName("recordingType")] string? RecordingType,
    [property: JsonPropertyName("downloadUrl")] string? DownloadUrl);

/// <summary>Which file of a recording goes to Vimeo.</summary>
public static class RecordingFileChoice
{
    /// <summary>The lesson as both sides saw it: screen share with the active speaker, else any MP4.</summary>
    public const string PreferredRecordingType = "shared_screen_with_speaker_view";

    public static string? VideoDownloadUrl(IEnumerable<(string? FileType, string? RecordingType, string? DownloadUrl)> files)
    {
        var videos = files.Where(f => string.Equals(f.FileType, "MP4", StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(f.DownloadUrl)).ToList();
        return (videos.FirstOrDefault(f => f.RecordingType == PreferredRecordingType) is { DownloadUrl: not null } preferred ? preferred : videos.FirstOrDefault()).DownloadUrl;
    }
}
