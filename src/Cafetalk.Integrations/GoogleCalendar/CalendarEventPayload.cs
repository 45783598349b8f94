using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.GoogleCalendar.Api;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>
/// The event we keep for a booking: a neutral summary, start and end in the lecturer's time zone, the Zoom join link
/// as the only description, private, no attendees. Nothing else about the lesson, the student or the lecturer.
/// </summary>
public static class CalendarEventPayload
{
    public const string Private = "private";
    public const string Confirmed = "confirmed";
    public const string Cancelled = "cancelled";

    /// <summary>The JSON paths an insert or patch body can hold, for the ledger.</summary>
    public static IReadOnlyList<string> FieldNames(bool insert, bool withDescription) =>
    [
        "path:calendarId", .. insert ? new[] { "id" } : ["path:eventId"], "query:sendUpdates", "status", "summary",
        "start.dateTime", "start.timeZone", "end.dateTime", "end.timeZone", "visibility", .. withDescription ? new[] { "description" } : [],
    ];

    public static Event Build(DesiredState desired, string summary, string? joinUrl, string? id = null)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(desired.LecturerTimeZone);
        return new Event
        {
            Id = id,
            Status = Confirmed,
            Summary = summary,
            Description = joinUrl,
            Start = new EventDateTime { DateTimeRaw = Local(desired.StartsAtUtc, zone), TimeZone = desired.LecturerTimeZone },
            End = new EventDateTime { DateTimeRaw = Local(desired.StartsAtUtc.AddMinutes(desired.DurationMinutes), zone), TimeZone = desired.LecturerTimeZone },
            Visibility = Private,
        };
    }

    /// <summary>A short hash of what the event shows, so a converge can tell whether Google still matches without asking it.</summary>
    public static string Fingerprint(Event e) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n',
        e.Status ?? Confirmed, e.Summary, e.Description ?? string.Empty, Instant(e.Start), e.Start?.TimeZone, Instant(e.End), e.End?.TimeZone,
        e.Visibility, e.Attendees?.Count ?? 0))))[..32];

    /// <summary>True when what Google shows is what we would send (times compared as instants).</summary>
    public static bool Matches(Event observed, Event desired) => Fingerprint(observed) == Fingerprint(desired);

    /// <summary>RFC 3339 with the lecturer's offset at that instant, e.g. 2030-01-01T19:00:00+09:00.</summary>
    public static string Local(DateTimeOffset utc, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(utc, zone).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    private static string Instant(EventDateTime? time) =>
        time?.DateTimeRaw is { } raw && DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at)
            ? at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)
            : string.Empty;
}

/// <summary>What the converger last knew Google to hold for a booking (the <c>Google*</c> columns of its <c>Bookings</c> row).</summary>
internal sealed record CalendarEventFacts(string? EventId, string? CalendarId, bool Deleted, string? Fingerprint)
{
    public bool IsLiveIn(string calendarId) => EventId is not null && !Deleted && CalendarId == calendarId;
}

/// <summary>The calendar converger's columns on a <c>Bookings</c> row; desired-state writes merge around them.</summary>
internal static class CalendarEventColumns
{
    public const string EventId = "GoogleEventId";
    public const string CalendarId = "GoogleCalendarId";
    public const string Deleted = "GoogleEventDeleted";
    public const string Fingerprint = "GoogleEventFingerprint";
    public const string ConvergedVersion = "GoogleConvergedVersion";
    public const string ConvergedAtUtc = "GoogleConvergedAtUtc";

    /// <summary>Until when one converger holds the right to insert this booking's event (two copies of a message race otherwise).</summary>
    public const string InsertClaimUntilUtc = "GoogleInsertClaimUntilUtc";

    /// <summary>Written by the Zoom converger: the meeting's join link, the only thing the event's description holds.</summary>
    public const string JoinUrl = MeetingColumns.JoinUrl;

    public static CalendarEventFacts Read(TableEntity row) => new(
        Empty(row.GetString(EventId)), Empty(row.GetString(CalendarId)), row.GetBoolean(Deleted) ?? false, Empty(row.GetString(Fingerprint)));

    public static string? ReadJoinUrl(TableEntity row) => Empty(row.GetString(JoinUrl));

    public static TableEntity Live(TableEntity row, string eventId, string calendarId, string fingerprint, long version, DateTimeOffset now) =>
        BookingRowColumns.Of(row, new Dictionary<string, object?>
        {
            [EventId] = eventId,
            [CalendarId] = calendarId,
            [Deleted] = false,
            [Fingerprint] = fingerprint,
            [ConvergedVersion] = version,
            [ConvergedAtUtc] = now,
            [InsertClaimUntilUtc] = now, // the event is recorded: the claim ends
        });

    public static TableEntity Removed(TableEntity row, long version, DateTimeOffset now) =>
        BookingRowColumns.Of(row, new Dictionary<string, object?>
        {
            [Deleted] = true,
            [Fingerprint] = string.Empty,
            [ConvergedVersion] = version,
            [ConvergedAtUtc] = now,
        });

    private static string? Empty(string? value) => BookingRowColumns.NullIfEmpty(value);
}
