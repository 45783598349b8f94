namespace Cafetalk.Integrations.Bookings;

/// <summary>The JSON kind of a notification field, as its schema states it.</summary>
public enum SiteFieldKind
{
    /// <summary>An id of ours: 1–64 characters of A-Z a-z 0-9 _ . - (a table key).</summary>
    Id,
    WholeNumber,
    Boolean,

    /// <summary>A UTC instant in ISO 8601 with <c>Z</c>.</summary>
    Timestamp,

    /// <summary>An absolute https URL.</summary>
    Url,

    /// <summary>One of the field's listed values.</summary>
    Choice,

    /// <summary>A list of host names.</summary>
    HostList,

    /// <summary>A list of the field's listed values.</summary>
    ChoiceList,
}

/// <summary>One field of a notification's <c>data</c>; <paramref name="Secret"/> marks a value never logged or counted.</summary>
public sealed record SiteField(string Name, SiteFieldKind Kind, bool Required, string Description, IReadOnlyList<string>? Choices = null, bool Secret = false)
{
    /// <summary>A value that moves while the fact stays (minutes left): not part of the notification's identity.</summary>
    public bool Volatile { get; init; }

    /// <summary>The value the documentation's example shows (made up, never a real member's).</summary>
    public object Example { get; init; } = Kind switch
    {
        SiteFieldKind.WholeNumber => 3,
        SiteFieldKind.Boolean => true,
        SiteFieldKind.Timestamp => "2026-12-10T09:00:00Z",
        SiteFieldKind.Url => "https://us02web.zoom.us/j/85012345678?pwd=example",
        SiteFieldKind.Choice => Choices![0],
        SiteFieldKind.HostList => new[] { "cafetalk.com" },
        SiteFieldKind.ChoiceList => new[] { Choices![0] },
        _ => "example-1",
    };
}

/// <summary>One type of the outbound contract: its CloudEvents <c>type</c> and <c>source</c>, what it tells, and its data's schema.</summary>
public sealed record SiteNotificationType(string Type, string Source, string Description, IReadOnlyList<SiteField> Fields)
{
    /// <summary>The code that sends it; null for a type of the contract no code sends yet (the docs say so).</summary>
    public string? SentBy { get; init; }

    /// <summary>Whether this type concerns one booking: its data then carries <c>bookingVersion</c>, so the site drops stale ones.</summary>
    public bool IsAboutABooking => Fields.Any(f => f.Name == SiteNotificationTypes.BookingVersionField);
}

/// <summary>
/// The outbound contract on queue <c>site-notifications</c>: every type the pipeline tells the booking system, each
/// with the schema of its data. The one place the types are named; docs/site-notifications.md is generated from it
/// (<c>notifications table --write-docs</c>) and <see cref="SiteNotifier"/> refuses a notification its schema does not allow.
/// </summary>
public static class SiteNotificationTypes
{
    public const string BookingVersionField = "bookingVersion";

    private static readonly string[] Providers = ["zoom", "google", "vimeo"];

    private static SiteField Booking() => new("bookingId", SiteFieldKind.Id, true, "The booking.") { Example = "bk-20261210-0042" };

    private static SiteField Lecturer() => new("lecturerId", SiteFieldKind.Id, true, "The booking's lecturer.") { Example = "lec-1187" };

    private static SiteField Version() => new(BookingVersionField, SiteFieldKind.WholeNumber, true, "The booking's version this is about: drop it when the site holds a newer one.");

    /// <summary>Not part of the notification's identity: a redelivery under another correlation id is the same notification.</summary>
    public const string CorrelationField = "correlationId";

    private static SiteField Correlation() => new(CorrelationField, SiteFieldKind.Id, false, "The id the pipeline's logs and ledger rows carry for the work that sent this.") { Example = "3f9a1c0e5b7d4e2a8c6b0d1f2e3a4b5c" };

    public static readonly SiteNotificationType MeetingReady = new("com.cafetalk.meeting.ready", "/cafetalk-integrations/zoom",
        "The lesson's online meeting exists or changed: the link to join it, for the booking page. A secret: the site shows it to the booking's two members only.",
        [Booking(), Lecturer(), Version(), new("joinUrl", SiteFieldKind.Url, true, "Zoom's join link.", Secret: true),
         new("startsAt", SiteFieldKind.Timestamp, true, "The meeting's start (UTC)."), Correlation()])
    { SentBy = "`Zoom/MeetingConverger` (create, update, adopt after a crash), through `Bookings/SiteOutbox`" };

    public static readonly SiteNotificationType MeetingRemoved = new("com.cafetalk.meeting.removed", "/cafetalk-integrations/zoom",
        "The lesson's meeting was deleted: its join link no longer works.",
        [Booking(), Lecturer(), Version(), new("reason", SiteFieldKind.Choice, true, "Why.", ["cancelled", "erased", "deleted-at-zoom"]), Correlation()])
    { SentBy = "`Zoom/MeetingConverger` (delete of a cancelled booking's meeting), through `Bookings/SiteOutbox`" };

    public static readonly SiteNotificationType RecordingAvailable = new("com.cafetalk.recording.available", "/cafetalk-integrations/recordings",
        "The lesson's recording is on Vimeo, private, embeddable only on the listed domains.",
        [Booking(), Lecturer(), Version(), new("vimeoVideoId", SiteFieldKind.Id, true, "The Vimeo video to embed.") { Example = "1043257711" },
         new("embedDomains", SiteFieldKind.HostList, true, "The only domains the player may be embedded on."), Correlation()])
    { SentBy = "`Recordings/RecordingArchiver` (once Zoom's copy is deleted after the upload), through `Bookings/SiteOutbox`" };

    public static readonly SiteNotificationType RecordingRemoved = new("com.cafetalk.recording.removed", "/cafetalk-integrations/recordings",
        "The lesson's recording was deleted from Vimeo.",
        [Booking(), Lecturer(), Version(), new("reason", SiteFieldKind.Choice, true, "Why.", ["retention", "cancelled", "erased"]), Correlation()])
    { SentBy = "`Recordings/RecordingDeleter` (cancel, retention sweep, erasure), through `Bookings/SiteOutbox`" };

    public static readonly SiteNotificationType RecordingUploadFailed = new("com.cafetalk.recording.upload-failed", "/cafetalk-integrations/recordings",
        "Every upload attempt of the lesson's recording failed; Zoom's copy is kept for an operator.",
        [Booking(), Lecturer(), Version(), new("attempts", SiteFieldKind.WholeNumber, true, "Attempts made."),
         new("zoomCopyKept", SiteFieldKind.Boolean, true, "Whether the recording is still in Zoom's cloud."), Correlation()])
    { SentBy = "`Vimeo/RecordingFailures`, through `Bookings/SiteOutbox`" };

    public static readonly SiteNotificationType CalendarConnected = new("com.cafetalk.calendar.connected", "/cafetalk-integrations/calendar",
        "The lecturer connected their Google Calendar: lessons appear in their \"Cafetalk lessons\" calendar.",
        [Lecturer(), Correlation()])
    { SentBy = "`GoogleCalendar/CalendarCallbackFlow`" };

    public static readonly SiteNotificationType CalendarConnectionRevoked = new("com.cafetalk.calendar.connection-revoked", "/cafetalk-integrations/calendar",
        "Google refused the lecturer's grant (revoked or expired): calendar updates stop until they connect again.",
        [Lecturer(), Correlation()])
    { SentBy = "`GoogleCalendar/CalendarRevocations` (in `CalendarEventConverger.cs`)" };

    public static readonly SiteNotificationType LessonCalendarRecreated = new("com.cafetalk.calendar.lesson-calendar-recreated", "/cafetalk-integrations/calendar",
        "The lecturer deleted the \"Cafetalk lessons\" calendar in Google; a new one was made and upcoming lessons are put back.",
        [Lecturer(), Correlation()])
    { SentBy = "`GoogleCalendar/CalendarRecreations` (in `CalendarEventConverger.cs`)" };

    public static readonly SiteNotificationType ProviderProblem = new("com.cafetalk.booking.provider-problem", "/cafetalk-integrations/bookings",
        "A provider could not be made to match the booking; the pipeline keeps trying. Sent while there is time to act.",
        [Booking(), Lecturer(), Version(), new("provider", SiteFieldKind.Choice, true, "Which provider.", Providers),
         new("problem", SiteFieldKind.Choice, true, "What is wrong.", ["not-created", "not-updated", "not-deleted", "no-join-link"]),
         new("minutesBeforeLesson", SiteFieldKind.WholeNumber, true, "Minutes from now to the lesson's start when this was sent.") { Example = 45, Volatile = true }, Correlation()])
    { SentBy = "`Operations/StartsSoonCheck`; `Zoom/ZoomHostPlacer` when no pool host is free" };

    public static readonly SiteNotificationType ChangedOutside = new("com.cafetalk.booking.changed-outside", "/cafetalk-integrations/bookings",
        "Someone changed the lesson's meeting or calendar event outside Cafetalk (deleted or moved it); the pipeline put it back to the booking, with a new join link when the meeting had to be made again.",
        [Booking(), Lecturer(), Version(), new("provider", SiteFieldKind.Choice, true, "Where it was changed.", Providers),
         new("change", SiteFieldKind.Choice, true, "What was changed (edited: its text, guests or other details).", ["deleted", "moved", "edited"]),
         new("restored", SiteFieldKind.Boolean, true, "Whether it is already put back (else the pipeline keeps trying)."), Correlation()])
    { SentBy = "`Zoom/ZoomMeetingChanges` (webhooks `meeting.deleted`, `meeting.updated`); `GoogleCalendar/CalendarNightlySync` (a calendar sync after a push notification, or the nightly pass)" };

    public static readonly SiteNotificationType ErasureCompleted = new("com.cafetalk.member.erasure-completed", "/cafetalk-integrations/erasure",
        "Everything shared about the member was erased at every provider and store.",
        [new("receiptId", SiteFieldKind.Id, true, "The erasure receipt, keyed by an HMAC of the member id (never the member id).") { Example = "er-5c1d9e0f7a2b4c6d" }, Correlation()])
    { SentBy = "`Erasure/MemberErasure`" };

    public static readonly SiteNotificationType ErasurePending = new("com.cafetalk.member.erasure-pending", "/cafetalk-integrations/erasure",
        "The erasure is recorded but a provider step is still pending; it is retried nightly.",
        [new("receiptId", SiteFieldKind.Id, true, "The erasure receipt.") { Example = "er-5c1d9e0f7a2b4c6d" },
         new("pendingProviders", SiteFieldKind.ChoiceList, true, "The providers whose step is still pending.", ["zoom", "google", "vimeo", "mail", "storage", "poison"]), Correlation()])
    { SentBy = "`Erasure/MemberErasure` (each try while a step is pending)" };

    public static readonly IReadOnlyList<SiteNotificationType> All =
    [
        MeetingReady, MeetingRemoved, RecordingAvailable, RecordingRemoved, RecordingUploadFailed, CalendarConnected,
        CalendarConnectionRevoked, LessonCalendarRecreated, ProviderProblem, ChangedOutside, ErasureCompleted, ErasurePending,
    ];

    public static SiteNotificationType? Find(string type) => All.FirstOrDefault(t => t.Type == type);
}
