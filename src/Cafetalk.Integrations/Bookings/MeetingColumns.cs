namespace Cafetalk.Integrations.Bookings;

/// <summary>
/// The facts of a booking's online meeting that other steps read from its <c>Bookings</c> row: the calendar event's
/// join link, the recording archive's meeting id and recording setting. Only the meeting's converger (Zoom) writes
/// them; naming them here keeps the readers from reaching into that provider's folder.
/// </summary>
public static class MeetingColumns
{
    public const string MeetingId = "ZoomMeetingId";

    /// <summary>The meeting's join link, for the lecturer's calendar event; a personal value, never logged.</summary>
    public const string JoinUrl = "ZoomJoinUrl";

    public const string AutoRecording = "ZoomAutoRecording";

    /// <summary>The <see cref="AutoRecording"/> of a meeting recorded to the provider's cloud (recording consent from both parties).</summary>
    public const string CloudRecording = "cloud";
}
