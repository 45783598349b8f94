using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cafetalk.Integrations.Bookings;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Zoom;

/// <summary>The body of a meeting create or update: the only fields Zoom ever receives from us.</summary>
public sealed record ZoomMeetingRequest(
    [property: JsonPropertyName("topic")] string Topic,
    [property: JsonPropertyName("type")] int Type,
    [property: JsonPropertyName("start_time")] string StartTime,
    [property: JsonPropertyName("duration")] int Duration,
    [property: JsonPropertyName("timezone")] string Timezone,
    [property: JsonPropertyName("agenda")] string Agenda,
    [property: JsonPropertyName("settings")] ZoomMeetingRequestSettings Settings);

/// <summary>The meeting settings we set; everything else stays at the host's defaults.</summary>
public sealed record ZoomMeetingRequestSettings(
    [property: JsonPropertyName("waiting_room")] bool WaitingRoom,
    [property: JsonPropertyName("join_before_host")] bool JoinBeforeHost,
    [property: JsonPropertyName("auto_recording")] string AutoRecording);

/// <summary>
/// Builds meeting bodies from a booking's desired state. No name, email or note can reach it: it reads only times,
/// the consent flags and an opaque booking reference (not even the lecturer's time zone: see <see cref="MeetingTimeZone"/>).
/// </summary>
public static class ZoomMeetingPayload
{
    /// <summary>A neutral topic: Zoom shows it to both sides and stores it; it must say nothing about them.</summary>
    public const string Topic = "Cafetalk lesson";
    public const int ScheduledMeetingType = 2;
    public const string RecordToCloud = MeetingColumns.CloudRecording;
    public const string NoRecording = "none";

    /// <summary>
    /// The <c>timezone</c> every meeting gets. Zoom's documented time-zone list lacks ids lecturers have (Asia/Manila,
    /// Africa/Lagos, Europe/Kyiv...) and start_time is already UTC, so the zone would only label it: "UTC" is on the list.
    /// </summary>
    public const string MeetingTimeZone = "UTC";

    /// <summary>Every JSON path the payload can hold, for the disclosure policy's allowlist and the ledger's data items.</summary>
    public static readonly IReadOnlyList<string> FieldNames =
    [
        "topic", "type", "start_time", "duration", "timezone", "agenda",
        "settings.waiting_room", "settings.join_before_host", "settings.auto_recording",
    ];

    internal static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    public static ZoomMeetingRequest Build(DesiredState state, string bookingReference) => new(
        Topic,
        ScheduledMeetingType,
        FormatStartTime(state.StartsAtUtc),
        state.DurationMinutes,
        MeetingTimeZone,
        bookingReference,
        new ZoomMeetingRequestSettings(WaitingRoom: true, JoinBeforeHost: false, AutoRecording(state.RecordingConsent)));

    /// <summary>Cloud recording only when both the lecturer and the student agreed to it.</summary>
    public static string AutoRecording(RecordingConsent consent) => consent.Both ? RecordToCloud : NoRecording;

    /// <summary>UTC with a trailing Z: Zoom then reads the time as GMT and uses <c>timezone</c> only for display.</summary>
    public static string FormatStartTime(DateTimeOffset startsAtUtc) =>
        startsAtUtc.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static byte[] Serialize(ZoomMeetingRequest request) => JsonSerializer.SerializeToUtf8Bytes(request, Json);
}

/// <summary>
/// The opaque reference written into a meeting's <c>agenda</c>: a keyed hash of the booking id, so the meeting can
/// be found again after a crash while Zoom learns nothing about the booking from it.
/// </summary>
public sealed class ZoomBookingReference(IOptions<ZoomOptions> options)
{
    public const string Prefix = "cafetalk-ref:";

    public string For(string bookingId)
    {
        var key = Encoding.UTF8.GetBytes(options.Value.BookingReferenceKey);
        var hash = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(bookingId));
        return Prefix + Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }
}
