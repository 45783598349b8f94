namespace Cafetalk.Integrations.Bookings;

/// <summary>Where a booking stands: the status the latest event put it in.</summary>
public enum BookingStatus
{
    Confirmed,
    Cancelled,
    Completed,
}

/// <summary>Both sides' consent to recording; a recording exists only when both are true.</summary>
public readonly record struct RecordingConsent(bool Lecturer, bool Student)
{
    public bool Both => Lecturer && Student;
}

/// <summary>
/// A validated booking event holding only the fields the pipeline needs. Names, emails, phone numbers, titles
/// and notes the booking system also sends never get this far.
/// </summary>
public sealed record BookingEvent(
    string EventId,
    string Type,
    string BookingId,
    long Version,
    string LecturerId,
    string StudentId,
    DateTimeOffset StartsAtUtc,
    int DurationMinutes,
    string LecturerTimeZone,
    RecordingConsent RecordingConsent)
{
    public BookingStatus Status => Type switch
    {
        EventTypes.BookingCancelled => BookingStatus.Cancelled,
        EventTypes.BookingCompleted => BookingStatus.Completed,
        _ => BookingStatus.Confirmed,
    };
}

/// <summary>
/// A validated member event, minimised the same way. Erasure requests carry <see cref="RequestId"/>; newsletter
/// subscriptions carry the list, the address the mail service needs, the page language and the consent record.
/// </summary>
public sealed record MemberEvent(
    string EventId,
    string Type,
    string MemberId,
    string? RequestId = null,
    string? List = null,
    string? Email = null,
    string? Locale = null,
    string? ConsentRecordId = null,
    DateTimeOffset? At = null);
