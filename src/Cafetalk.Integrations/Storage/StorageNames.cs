namespace Cafetalk.Integrations.Storage;

/// <summary>Queue names: the contract with the booking system and between our own stages.</summary>
public static class QueueNames
{
    public const string BookingEvents = "booking-events";
    public const string BookingEventsPoison = "booking-events-poison";
    /// <summary>Newsletter subscriptions from the booking system, minimised, for the newsletter handler.</summary>
    public const string NewsletterEvents = "newsletter-events";

    /// <summary>Erasure requests, minimised; they wait here until the erasure handler takes them.</summary>
    public const string ErasureRequests = "erasure-requests";

    /// <summary>Newsletter status changes waiting to be told to the mail service.</summary>
    public const string MailSuppressions = "mail-suppressions";

    /// <summary>One message per booking whose Zoom meeting must be made to match its desired state.</summary>
    public const string ZoomConverge = "zoom-converge";

    /// <summary>Verified Zoom webhooks (meeting.ended, recording.completed), minimised, for the recording pipeline.</summary>
    public const string ZoomEvents = "zoom-events";

    /// <summary>Verified Zoom webhooks about a meeting changed in Zoom (meeting.deleted, meeting.updated), minimised: ids and times.</summary>
    public const string ZoomMeetingChanges = "zoom-meeting-changes";

    /// <summary>One message per changed booking, so a cancelled booking's Vimeo recording is deleted.</summary>
    public const string RecordingConverge = "recording-converge";

    /// <summary>One message per booking whose Google Calendar event must be made to match its desired state.</summary>
    public const string CalendarConverge = "calendar-converge";

    /// <summary>One message per lecturer whose calendar Google said changed (a push notification): lecturer id only; its consumer runs that calendar's incremental sync.</summary>
    public const string CalendarChanges = "calendar-changes";

    /// <summary>CloudEvents for the Cafetalk site, e.g. <c>com.cafetalk.calendar.connection-revoked</c> (ids only).</summary>
    public const string SiteNotifications = "site-notifications";

    /// <summary>The queues a changed booking is announced on, one per provider converger.</summary>
    public static readonly IReadOnlyList<string> ConvergeQueues = [ZoomConverge, CalendarConverge, RecordingConverge];

    /// <summary>The queues a function reads: the host poisons each into <c>{queue}-poison</c> after its last attempt.</summary>
    public static readonly IReadOnlyList<string> Triggered =
        [BookingEvents, NewsletterEvents, ErasureRequests, MailSuppressions, ZoomConverge, ZoomEvents, ZoomMeetingChanges, RecordingConverge, CalendarConverge, CalendarChanges];

    public static readonly IReadOnlyList<string> All =
        [BookingEvents, BookingEventsPoison, NewsletterEvents, ErasureRequests, MailSuppressions, ZoomConverge, ZoomEvents, ZoomMeetingChanges, RecordingConverge, CalendarConverge, CalendarChanges, SiteNotifications];
}

/// <summary>Table names used by the pipeline.</summary>
public static class TableNames
{
    public const string Bookings = "Bookings";
    public const string NewsletterSubscriptions = "NewsletterSubscriptions";

    /// <summary>Random link id of an unsubscribe token → the subscription it acts on.</summary>
    public const string UnsubscribeLinks = "UnsubscribeLinks";

    /// <summary>Lecturer id → Zoom host user id.</summary>
    public const string ZoomHosts = "ZoomHosts";

    /// <summary>Meeting creates/updates used per Zoom host per UTC day.</summary>
    public const string ZoomHostQuota = "ZoomHostQuota";

    /// <summary>The pool of Zoom host users for lecturers without their own: each host's concurrency and daily create/update limit.</summary>
    public const string ZoomHostPool = "ZoomHostPool";

    /// <summary>Per pool host and lane, the 5-minute slots each booking's meeting holds (insert-if-absent: one booking per slot).</summary>
    public const string ZoomHostReservations = "ZoomHostReservations";

    /// <summary>Keys of Zoom webhook events already accepted, so a replay is never enqueued twice.</summary>
    public const string ZoomWebhookEvents = "ZoomWebhookEvents";

    /// <summary>Lecturer id → id of their Vimeo folder (project) of lesson recordings.</summary>
    public const string VimeoFolders = "VimeoFolders";

    /// <summary>The disclosure ledger: one hash chain per subject partition, plus its head row.</summary>
    public const string DisclosureLedger = "DisclosureLedger";

    /// <summary>memberId → random ledger pseudonym, and the erased members' tombstones with their sealed mappings.</summary>
    public const string Subjects = "Subjects";

    /// <summary>Erasure receipts, keyed by an HMAC of the member id.</summary>
    public const string ErasureReceipts = "ErasureReceipts";

    /// <summary>Lecturers' Google connections: the sealed refresh token, the calendar id, the sync token.</summary>
    public const string CalendarConnections = "CalendarConnections";

    /// <summary>Open Google watch channels (token sealed) by channel id, and each lecturer's sync debounce.</summary>
    public const string CalendarWatchChannels = "CalendarWatchChannels";

    /// <summary>One-time OAuth states of consents in progress.</summary>
    public const string CalendarConnectStates = "CalendarConnectStates";

    /// <summary>Ids of connect tickets already completed once, with their expiry: a ticket completes one consent only.</summary>
    public const string CalendarConnectTickets = "CalendarConnectTickets";

    /// <summary>One-time tokens of our own pages' confirmation forms (replace a Google connection, resubscribe).</summary>
    public const string FormTokens = "FormTokens";

    /// <summary>Per provider, the shared schedule of its per-second rate budget (one row, overwritten).</summary>
    public const string ProviderRateBudget = "ProviderRateBudget";

    public static readonly IReadOnlyList<string> All =
        [Bookings, DisclosureLedger, Subjects, ErasureReceipts, NewsletterSubscriptions, UnsubscribeLinks, ZoomHosts, ZoomHostQuota, ZoomHostPool, ZoomHostReservations, ZoomWebhookEvents, VimeoFolders, CalendarConnections, CalendarWatchChannels, CalendarConnectStates, CalendarConnectTickets, FormTokens, ProviderRateBudget];
}

/// <summary>Blob containers used by the pipeline.</summary>
public static class BlobContainerNames
{
    /// <summary>Large poisoned messages an older release kept whole; nothing writes here now, a lifecycle rule empties it.</summary>
    public const string PoisonPayloads = "poison-payloads";

    /// <summary>The ledger's daily digests: an append blob of digest lines plus the head list each one covers.</summary>
    public const string LedgerDigests = "ledger-digests";

    public static readonly IReadOnlyList<string> All = [PoisonPayloads, LedgerDigests];
}
