namespace Cafetalk.Integrations.Bookings;

/// <summary>What the outside world should look like for one booking, as of the newest event seen.</summary>
public sealed record DesiredState(
    string BookingId,
    string LecturerId,
    long Version,
    BookingStatus Status,
    string StudentId,
    DateTimeOffset StartsAtUtc,
    int DurationMinutes,
    string LecturerTimeZone,
    RecordingConsent RecordingConsent,
    string LastEventId)
{
    public static DesiredState From(BookingEvent e) => new(
        e.BookingId, e.LecturerId, e.Version, e.Status, e.StudentId, e.StartsAtUtc, e.DurationMinutes,
        e.LecturerTimeZone, e.RecordingConsent, e.EventId);

    /// <summary>
    /// The one rule every store follows: an event replaces the state only when its version is newer, so
    /// redelivery changes nothing and any order of delivery ends in the highest version.
    /// </summary>
    public static DesiredState? Merge(DesiredState? current, BookingEvent incoming) =>
        current is null || incoming.Version > current.Version ? From(incoming) : null;
}
