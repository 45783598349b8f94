using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Erasure;

/// <summary>What an erasure does to one table, queue or container.</summary>
public enum StoreErasure
{
    /// <summary>Rows naming the member are deleted (or stripped of the member's ids) by an erasure step.</summary>
    Erased,
    /// <summary>Kept for a legal reason, no longer linked to the member by anything the app can read.</summary>
    KeptUnlinked,
    /// <summary>Holds no member id and nothing personal.</summary>
    NotPersonal,
    /// <summary>Messages pass through in seconds and expire within days; later ones are refused by the tombstone.</summary>
    Transit,
    /// <summary>Poison storage: minimised and erased by the poison step (owned with the poison queues; see <see cref="ErasureCoverage.PoisonStepProvider"/>).</summary>
    PoisonStep,
}

/// <summary>One store's line in <see cref="ErasureCoverage"/>: what erasure does to it and why.</summary>
public sealed record StoreCoverage(string Kind, string Name, StoreErasure Erasure, string Why);

/// <summary>
/// Every table, queue and blob container the app has, with what an erasure leaves in it and why. A test fails when
/// a store in <see cref="TableNames"/>, <see cref="QueueNames"/> or <see cref="BlobContainerNames"/> has no line here, so a new store cannot be forgotten by erasure.
/// </summary>
public static class ErasureCoverage
{
    /// <summary>The erasure step that must cover poison queues and blobs (written with the poison minimisation).</summary>
    public const string PoisonStepProvider = "poison";

    public static readonly IReadOnlyList<StoreCoverage> Stores =
    [
        Table(TableNames.Bookings, StoreErasure.Erased, "Marked erased (every converger deletes and never shares again); on completion StudentId and the join link are removed (the row keeps the student's ledger pseudonym and keyed erasure id, so a recording Zoom finishes later is deleted on their chain and receipt), and the erased lecturer's rows (PartitionKey = lecturer id) are deleted."),
        Table(TableNames.DisclosureLedger, StoreErasure.KeptUnlinked, "APPI Art. 29: kept until RetainUntil (3 years) under the pseudonym; its only link to the member is the sealed mapping in Subjects."),
        Table(TableNames.Subjects, StoreErasure.Erased, "The plain mapping is deleted; a tombstone (keyed id) keeps the mapping sealed for the privacy office, and a marker keyed by the chain's commitment tells verify the chain was erased, not unlinked; both are destroyed after the last record's RetainUntil."),
        Table(TableNames.ErasureReceipts, StoreErasure.KeptUnlinked, "The proof of erasure, keyed by an HMAC of the member id; the member id is dropped when the erasure completes. Later follow-ups (a late Zoom recording deleted, or pending with its reason) are added as steps."),
        Table(TableNames.NewsletterSubscriptions, StoreErasure.Erased, "Subscription, sealed email and consent history deleted (the address stays only in the mail service's suppression group, as the law requires)."),
        Table(TableNames.UnsubscribeLinks, StoreErasure.Erased, "Both rows of each link deleted: every link the member was mailed stops resolving."),
        Table(TableNames.ZoomHosts, StoreErasure.Erased, "The lecturer's host assignment row deleted."),
        Table(TableNames.ZoomHostQuota, StoreErasure.NotPersonal, "Daily counters per Zoom host user of the company's account; no member id."),
        Table(TableNames.ZoomHostPool, StoreErasure.NotPersonal, "The company's pool host users (Zoom user ids) and their concurrency; no member id."),
        Table(TableNames.ZoomHostReservations, StoreErasure.NotPersonal, "Time slots of pool hosts, each naming the booking id that holds it (no member id); an erased member's meetings are deleted by the converger, which releases their slots."),
        Table(TableNames.ZoomWebhookEvents, StoreErasure.NotPersonal, "Replay guard: event name, Zoom meeting instance and time; no member id, and the meeting's booking row no longer names the member."),
        Table(TableNames.VimeoFolders, StoreErasure.Erased, "The lecturer's folder row deleted with the folder (Vimeo step)."),
        Table(TableNames.CalendarConnections, StoreErasure.Erased, "The lecturer's connection deleted with the calendar and the grant (Google step)."),
        Table(TableNames.CalendarWatchChannels, StoreErasure.Erased, "The lecturer's watch channels stopped at Google and their rows (and debounce row) deleted with the connection (Google step, through the disconnection)."),
        Table(TableNames.CalendarConnectStates, StoreErasure.Erased, "Consents still in progress for the lecturer deleted."),
        Table(TableNames.CalendarConnectTickets, StoreErasure.NotPersonal, "Spent connect tickets: a SHA-256 of the ticket's MAC and its expiry; no member id, and no way back to one without the ticket key."),
        Table(TableNames.FormTokens, StoreErasure.NotPersonal, "One-time confirmation tokens: hashes of the token and of what it is bound to, and an expiry; no member id."),
        Table(TableNames.ProviderRateBudget, StoreErasure.NotPersonal, "One schedule row per provider; no member data."),
        Queue(QueueNames.BookingEvents, StoreErasure.Transit, "Raw events from the booking system, taken within seconds; later events for the member are dropped by the tombstone."),
        Queue(QueueNames.BookingEventsPoison, StoreErasure.PoisonStep, "Refused events with their reason."),
        Queue(QueueNames.NewsletterEvents, StoreErasure.Transit, "Minimised subscriptions; one taken after the erasure is dropped by the tombstone."),
        Queue(QueueNames.ErasureRequests, StoreErasure.Transit, "The erasure request itself, deleted when handled."),
        Queue(QueueNames.MailSuppressions, StoreErasure.Transit, "Pseudonym and list only; the erasure's own suppression is synchronous."),
        Queue(QueueNames.ZoomConverge, StoreErasure.Transit, "Lecturer and booking ids (and the queue to ask next); a converge of an erased booking only deletes."),
        Queue(QueueNames.ZoomEvents, StoreErasure.Transit, "Minimised webhooks (meeting id, download token); an erased booking's recording is only deleted."),
        Queue(QueueNames.ZoomMeetingChanges, StoreErasure.Transit, "Minimised webhooks (meeting id, start time, duration); the converge one triggers for an erased booking only deletes."),
        Queue(QueueNames.RecordingConverge, StoreErasure.Transit, "Lecturer and booking ids; a converge of an erased booking only deletes."),
        Queue(QueueNames.CalendarConverge, StoreErasure.Transit, "Lecturer and booking ids (and digests of the outbox markers sent before); a converge of an erased booking only deletes."),
        Queue(QueueNames.CalendarChanges, StoreErasure.Transit, "Lecturer id only; a sync for a lecturer with no connection does nothing."),
        Queue(QueueNames.SiteNotifications, StoreErasure.Transit, "Ids only, for the booking system, which holds the member's data anyway."),
        Container(BlobContainerNames.PoisonPayloads, StoreErasure.PoisonStep, "Refused messages too large for a queue."),
        Container(BlobContainerNames.LedgerDigests, StoreErasure.NotPersonal, "Chain heads (pseudonym partitions, sequence numbers, hashes); immutable by design and no member id."),
    ];

    private static StoreCoverage Table(string name, StoreErasure erasure, string why) => new("table", name, erasure, why);

    private static StoreCoverage Queue(string name, StoreErasure erasure, string why) => new("queue", name, erasure, why);

    private static StoreCoverage Container(string name, StoreErasure erasure, string why) => new("container", name, erasure, why);
}
