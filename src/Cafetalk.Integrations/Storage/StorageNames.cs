namespace Cafetalk.Integrations.Storage;

/// <summary>Queue names: the contract with the booking system and between our own stages.</summary>
public static class QueueNames
{
    public const string BookingEvents = "booking-events";
    public const string BookingEventsPoison = "booking-events-poison";
    public const string MemberEvents = "member-events";

    /// <summary>One message per booking whose Zoom meeting must be made to match its desired state.</summary>
    public const string ZoomConverge = "zoom-converge";

    /// <summary>Verified Zoom webhooks (meeting.ended, recording.completed), minimised, for the recording pipeline.</summary>
    public const string ZoomEvents = "zoom-events";

    public static readonly IReadOnlyList<string> All = [BookingEvents, BookingEventsPoison, MemberEvents, ZoomConverge, ZoomEvents];
}

/// <summary>Table names used by the pipeline.</summary>
public static class TableNames
{
    public const string Bookings = "Bookings";

    /// <summary>Lecturer id → Zoom host user id.</summary>
    public const string ZoomHosts = "ZoomHosts";

    /// <summary>Meeting creates/updates used per Zoom host per UTC day.</summary>
    public const string ZoomHostQuota = "ZoomHostQuota";

    /// <summary>Keys of Zoom webhook events already accepted, so a replay is never enqueued twice.</summary>
    public const string ZoomWebhookEvents = "ZoomWebhookEvents";

    public static readonly IReadOnlyList<string> All = [Bookings, ZoomHosts, ZoomHostQuota, ZoomWebhookEvents];
}

/// <summary>Blob containers used by the pipeline.</summary>
public static class BlobContainerNames
{
    /// <summary>Poisoned messages too large to travel in a queue envelope are kept here whole.</summary>
    public const string PoisonPayloads = "poison-payloads";

    public static readonly IReadOnlyList<string> All = [PoisonPayloads];
}
