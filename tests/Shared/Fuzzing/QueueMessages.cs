using System.Text.Json.Nodes;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using FsCheck;
using FsCheck.Fluent;

namespace Cafetalk.Integrations.Fuzzing;

/// <summary>
/// Valid messages for every queue a function listens to, and the bad input each queue is fuzzed with: mutations
/// of its own valid messages, other queues' messages, and junk.
/// </summary>
public static class QueueMessages
{
    private const string IdFirst = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const string IdRest = IdFirst + "_.-";

    private static readonly string[] BookingTypes =
        [EventTypes.BookingConfirmed, EventTypes.BookingRescheduled, EventTypes.BookingCancelled, EventTypes.BookingCompleted];

    private static readonly string[] TimeZones = ["Asia/Tokyo", "Europe/Berlin", "America/New_York", "UTC", "Australia/Sydney", "Asia/Kolkata"];

    /// <summary>An id the pipeline accepts: 1-64 characters of A-Z a-z 0-9 _ . -, not starting with a separator.</summary>
    public static Gen<string> ValidId() =>
        from first in Gen.Elements(IdFirst.ToCharArray())
        from length in Gen.Frequency((9, Gen.Choose(0, 12)), (1, Gen.Choose(13, 63)))
        from rest in Gen.ArrayOf(Gen.Elements(IdRest.ToCharArray()), length)
        select first + new string(rest);

    /// <summary>A booking event as the booking system sends it (personal fields included), starting within the next 700 days of <paramref name="now"/>.</summary>
    public static Gen<JsonObject> ValidBookingEvent(DateTimeOffset now) =>
        from type in Gen.Elements(BookingTypes)
        from eventId in ValidId()
        from bookingId in ValidId()
        from lecturerId in ValidId()
        from studentId in ValidId()
        from version in Gen.Choose(1, 1000)
        from minutes in Gen.Choose(-30 * 24 * 60, 700 * 24 * 60)
        from duration in Gen.Choose(BookingEventParser.MinDurationMinutes, BookingEventParser.MaxDurationMinutes)
        from zone in Gen.Elements(TimeZones)
        from lecturer in Gen.Elements(true, false)
        from student in Gen.Elements(true, false)
        select JsonNode.Parse(SampleEvents.Booking(type, bookingId, version, Day(now).AddMinutes(minutes), lecturerId, studentId, duration, zone,
            lecturer, student, eventId))!.AsObject();

    public static Gen<JsonObject> ValidErasureRequest() =>
        from memberId in ValidId()
        from eventId in ValidId()
        select JsonNode.Parse(SampleEvents.ErasureRequested(memberId, eventId))!.AsObject();

    public static Gen<JsonObject> ValidNewsletterSubscription() =>
        from memberId in ValidId()
        from eventId in ValidId()
        from list in Gen.Elements("cafetalk-news", "cafetalk-news", "lessons.tips")
        from locale in Gen.Elements("ja", "en")
        select JsonNode.Parse(SampleEvents.NewsletterSubscribed(memberId, $"{memberId.ToLowerInvariant()}@example.jp", list, locale, eventId))!.AsObject();

    /// <summary>Any event the booking system publishes on <c>booking-events</c>.</summary>
    public static Gen<JsonObject> ValidCloudEvent(DateTimeOffset now) => Gen.Frequency(
        (8, ValidBookingEvent(now)),
        (1, ValidErasureRequest()),
        (1, ValidNewsletterSubscription()));

    public static Gen<JsonObject> ValidConvergeRequest() =>
        from lecturerId in ValidId()
        from bookingId in ValidId()
        select new JsonObject { ["lecturerId"] = lecturerId, ["bookingId"] = bookingId };

    /// <summary>A <c>calendar-changes</c> message as the notification webhook writes it: the lecturer id only.</summary>
    public static Gen<JsonObject> ValidCalendarChange() =>
        from lecturerId in ValidId()
        select new JsonObject { ["lecturerId"] = lecturerId };

    public static Gen<JsonObject> ValidSuppressionRequest() =>
        from hex in Gen.ArrayOf(Gen.Elements("0123456789abcdef".ToCharArray()), 32)
        from list in Gen.Elements("cafetalk-news", "lessons.tips")
        select new JsonObject { ["subjectRef"] = "sub-" + new string(hex), ["list"] = list };

    /// <summary>A <c>zoom-events</c> message as the webhook writes it: ids, times, download URLs and token only.</summary>
    public static Gen<JsonObject> ValidZoomEvent() =>
        from recording in Gen.Elements(true, true, false)
        from meetingId in Gen.Choose(1, int.MaxValue)
        from eventTs in Gen.Choose(0, 1_000_000)
        from token in Gen.ArrayOf(Gen.Elements("0123456789abcdef".ToCharArray()), 32)
        select recording
            ? new JsonObject
            {
                ["event"] = "recording.completed",
                ["eventTs"] = 1_790_000_000_000L + eventTs,
                ["meetingId"] = 80_000_000_000L + meetingId,
                ["meetingUuid"] = $"uuid-{meetingId}==",
                ["hostId"] = "host-1",
                ["downloadToken"] = "dl-" + new string(token),
                ["recordingFiles"] = new JsonArray(new JsonObject
                {
                    ["id"] = "file-1",
                    ["fileType"] = "MP4",
                    ["fileExtension"] = "MP4",
                    ["fileSize"] = 4096,
                    ["recordingType"] = "shared_screen_with_speaker_view",
                    ["downloadUrl"] = $"https://zoom.example/rec/download/{meetingId}",
                }),
                ["eventKey"] = new string(token) + new string(token),
            }
            : new JsonObject
            {
                ["event"] = "meeting.ended",
                ["eventTs"] = 1_790_000_000_000L + eventTs,
                ["meetingId"] = 80_000_000_000L + meetingId,
                ["meetingUuid"] = $"uuid-{meetingId}==",
                ["hostId"] = "host-1",
                ["endTime"] = "2026-11-01T10:50:00Z",
                ["eventKey"] = new string(token) + new string(token),
            };

    /// <summary>A <c>zoom-meeting-changes</c> message as the webhook writes it: the meeting id and, for an update, its new time.</summary>
    public static Gen<JsonObject> ValidZoomMeetingChange() =>
        from deleted in Gen.Elements(true, false)
        from meetingId in Gen.Choose(1, int.MaxValue)
        from eventTs in Gen.Choose(0, 1_000_000)
        from minutes in Gen.Choose(15, 240)
        from token in Gen.ArrayOf(Gen.Elements("0123456789abcdef".ToCharArray()), 32)
        select new JsonObject
        {
            ["event"] = deleted ? "meeting.deleted" : "meeting.updated",
            ["eventTs"] = 1_790_000_000_000L + eventTs,
            ["meetingId"] = 80_000_000_000L + meetingId,
            ["meetingUuid"] = deleted ? $"uuid-{meetingId}==" : null,
            ["hostId"] = "host-1",
            ["startTime"] = "2026-11-01T10:00:00Z",
            ["duration"] = minutes,
            ["eventKey"] = new string(token) + new string(token),
        };

    /// <summary>The valid messages of one queue.</summary>
    public static Gen<JsonObject> ValidFor(string queue, DateTimeOffset now) => queue switch
    {
        QueueNames.BookingEvents => ValidCloudEvent(now),
        QueueNames.ErasureRequests => ValidErasureRequest(),
        QueueNames.NewsletterEvents => ValidNewsletterSubscription(),
        QueueNames.ZoomConverge or QueueNames.CalendarConverge or QueueNames.RecordingConverge => ValidConvergeRequest(),
        QueueNames.ZoomEvents => ValidZoomEvent(),
        QueueNames.ZoomMeetingChanges => ValidZoomMeetingChange(),
        QueueNames.MailSuppressions => ValidSuppressionRequest(),
        QueueNames.CalendarChanges => ValidCalendarChange(),
        _ => throw new ArgumentOutOfRangeException(nameof(queue), queue, "no generator for this queue"),
    };

    /// <summary>
    /// What one queue is fuzzed with: mostly mutations of its own valid messages, then junk, other queues'
    /// messages (a message sent to the wrong queue), and now and then a valid message unchanged.
    /// </summary>
    public static Gen<string> BadInputFor(string queue, DateTimeOffset now)
    {
        var own = ValidFor(queue, now);
        // Another queue's valid message, never this queue's own kind (that would just be a valid input).
        var families = new (string[] Queues, Gen<JsonObject> Valid)[]
        {
            ([QueueNames.BookingEvents, QueueNames.ErasureRequests, QueueNames.NewsletterEvents], ValidCloudEvent(now)),
            ([QueueNames.ZoomConverge, QueueNames.CalendarConverge, QueueNames.RecordingConverge], ValidConvergeRequest()),
            ([QueueNames.ZoomEvents], ValidZoomEvent()),
            ([QueueNames.ZoomMeetingChanges], ValidZoomMeetingChange()),
            ([QueueNames.MailSuppressions], ValidSuppressionRequest()),
            ([QueueNames.CalendarChanges], ValidCalendarChange()),
        };
        var others = Gen.OneOf(families.Where(f => !f.Queues.Contains(queue)).Select(f => f.Valid)).Select(m => m.ToJsonString());
        return Gen.Frequency(
            (60, JsonMutator.Mutations(own)),
            (25, Junk.AnyText()),
            (8, others),
            (5, JsonMutator.Mutations(Gen.OneOf(ValidCloudEvent(now), ValidConvergeRequest(), ValidZoomEvent(), ValidSuppressionRequest()))),
            (2, own.Select(m => m.ToJsonString())));
    }

    private static DateTimeOffset Day(DateTimeOffset now) => new(now.UtcDateTime.Date, TimeSpan.Zero);
}
