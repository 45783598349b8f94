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

    public static readonly IReadOnlyList<string> All = [BookingEvents, BookingEventsPoison, NewsletterEvents, ErasureRequests, MailSuppressions];

    /// <summary>The queue each kind of member event is handed to.</summary>
    public static string ForMemberEvent(string type) =>
        type == Bookings.EventTypes.MemberErasureRequested ? ErasureRequests : NewsletterEvents;
}

/// <summary>Table names used by the pipeline.</summary>
public static class TableNames
{
    public const string Bookings = "Bookings";
    public const string NewsletterSubscriptions = "NewsletterSubscriptions";

    public static readonly IReadOnlyList<string> All = [Bookings, NewsletterSubscriptions];
}

/// <summary>Blob containers used by the pipeline.</summary>
public static class BlobContainerNames
{
    /// <summary>Poisoned messages too large to travel in a queue envelope are kept here whole.</summary>
    public const string PoisonPayloads = "poison-payloads";

    public static readonly IReadOnlyList<string> All = [PoisonPayloads];
}
