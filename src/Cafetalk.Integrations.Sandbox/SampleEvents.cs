using System.Globalization;
using System.Net.Mime;
using System.Text;
using System.Text.Json.Nodes;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Cafetalk.Integrations.Bookings;

namespace Cafetalk.Integrations.Sandbox;

/// <summary>
/// Builds CloudEvents the way the booking system publishes them, personal fields included (names, emails,
/// phone numbers, notes), so that demos and tests prove those fields are dropped at the edge.
/// </summary>
public static class SampleEvents
{
    private static readonly JsonEventFormatter Formatter = new();

    /// <summary>
    /// Personal values planted in every sample booking event, by kind; none may ever leave intake, and the integration
    /// suite's log scan looks for each in every log line. Distinctive, so a hit is never a coincidence.
    /// </summary>
    public static readonly IReadOnlyList<PlantedValue> Planted =
    [
        new("student-name", "山田 花子"),
        new("student-email", "hanako.yamada@example.jp"),
        new("student-phone", "+81-90-1234-5678"),
        new("lecturer-name", "Anna Schmidt"),
        new("lecturer-email", "anna.schmidt@example.de"),
        new("lesson-notes", "Please focus on presentations for my team meeting."),
    ];

    /// <summary>The values of <see cref="Planted"/>, in the order the event fields use them.</summary>
    public static readonly IReadOnlyList<string> PlantedPersonalValues = [.. Planted.Select(p => p.Value)];

    public static string Booking(
        string type,
        string bookingId,
        long version,
        DateTimeOffset startsAt,
        string lecturerId = "lec_4412",
        string studentId = "stu_90311",
        int durationMinutes = 50,
        string timeZone = "Europe/Berlin",
        bool consentLecturer = true,
        bool consentStudent = true,
        string? eventId = null,
        Action<JsonObject>? tamper = null)
    {
        var data = new JsonObject
        {
            ["bookingId"] = bookingId,
            ["version"] = version,
            ["lecturerId"] = lecturerId,
            ["studentId"] = studentId,
            ["startsAt"] = startsAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["durationMinutes"] = durationMinutes,
            ["lecturerTimeZone"] = timeZone,
            ["recordingConsent"] = new JsonObject { ["lecturer"] = consentLecturer, ["student"] = consentStudent },
            ["lessonTitle"] = "Business German for IT engineers",
            ["priceJpy"] = 2800,
            ["studentName"] = PlantedPersonalValues[0],
            ["studentEmail"] = PlantedPersonalValues[1],
            ["studentPhone"] = PlantedPersonalValues[2],
            ["lecturerName"] = PlantedPersonalValues[3],
            ["lecturerEmail"] = PlantedPersonalValues[4],
            ["notes"] = PlantedPersonalValues[5],
        };
        tamper?.Invoke(data);
        return Encode(type, data, eventId ?? $"{bookingId}-v{version}-{type[(type.LastIndexOf('.') + 1)..]}");
    }

    public static string ErasureRequested(string memberId, string? eventId = null) =>
        Encode(EventTypes.MemberErasureRequested, new JsonObject
        {
            ["memberId"] = memberId,
            ["requestId"] = $"era_{memberId}",
            ["requestedAt"] = "2027-04-01T09:00:00Z",
        }, eventId ?? $"erase-{memberId}");

    public static string NewsletterSubscribed(string memberId, string email, string list = "cafetalk-news", string locale = "ja", string? eventId = null) =>
        Encode(EventTypes.NewsletterSubscribed, new JsonObject
        {
            ["memberId"] = memberId,
            ["list"] = list,
            ["email"] = email,
            ["locale"] = locale,
            ["consentRecordId"] = $"cns_{memberId}",
            ["consentedAt"] = "2027-02-01T00:00:00Z",
            ["displayName"] = "山田 花子",
        }, eventId ?? $"subscribe-{memberId}-{list}");

    /// <summary>Encodes a structured-mode CloudEvent with the CloudEvents SDK, as the booking system does.</summary>
    public static string Encode(string type, JsonNode data, string eventId)
    {
        var cloudEvent = new CloudEvent
        {
            Id = eventId,
            Type = type,
            Source = new Uri("/booking-system/prod", UriKind.Relative),
            Time = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero),
            DataContentType = MediaTypeNames.Application.Json,
            Data = data,
        };
        return Encoding.UTF8.GetString(Formatter.EncodeStructuredModeMessage(cloudEvent, out _).Span);
    }

    /// <summary>
    /// The demo's built-in sample: valid events, redeliveries, events out of order, member events and one
    /// malformed message of each common kind. Times are relative to <paramref name="now"/>.
    /// </summary>
    public static IReadOnlyList<string> DemoDay(DateTimeOffset now)
    {
        var tomorrow = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddDays(1).AddHours(10);
        const string confirmed = EventTypes.BookingConfirmed;
        var firstConfirm = Booking(confirmed, "bk_demo_0001", 1, tomorrow);
        return
        [
            firstConfirm,
            firstConfirm, // redelivered by the queue
            Booking(EventTypes.BookingRescheduled, "bk_demo_0001", 2, tomorrow.AddHours(2)),
            firstConfirm, // a late redelivery after the reschedule: must not roll it back
            Booking(EventTypes.BookingCancelled, "bk_demo_0002", 2, tomorrow.AddHours(4), studentId: "stu_77120"),
            Booking(confirmed, "bk_demo_0002", 1, tomorrow.AddHours(4), studentId: "stu_77120"), // cancel seen first
            Booking(confirmed, "bk_demo_0003", 1, tomorrow.AddDays(1), lecturerId: "lec_2087", timeZone: "Asia/Tokyo", durationMinutes: 25, consentStudent: false),
            Booking(EventTypes.BookingCompleted, "bk_demo_0004", 2, now.AddHours(-3), lecturerId: "lec_2087", timeZone: "Asia/Tokyo"),
            ErasureRequested("stu_55012"),
            NewsletterSubscribed("stu_90311", "hanako.yamada@example.jp"),
            "{ this is not json",
            "[1, 2, 3]",
            Encode("com.cafetalk.booking.teleported", new JsonObject { ["bookingId"] = "bk_demo_0005" }, "bad-type-1"),
            Booking(confirmed, "bk_demo_0006", 1, tomorrow, durationMinutes: 0),
            Booking(confirmed, "bk_demo_0007", 1, tomorrow, timeZone: "Mars/Olympus_Mons"),
            Booking(confirmed, "bk_demo_0008", 1, tomorrow, tamper: d => d["startsAt"] = "2027-03-02T19:00:00+09:00"),
            Booking(confirmed, "bk_demo_0009", 1, now.AddYears(3)),
            Booking(confirmed, "bk_demo_0010", 1, tomorrow, tamper: d => d.Remove("bookingId")),
        ];
    }
}
