namespace Cafetalk.Integrations.Storage;

/// <summary>Queue names: the contract with the booking system and between our own stages.</summary>
public static class QueueNames
{
    public const string BookingEvents = "booking-events";
    public const string BookingEventsPoison = "booking-events-poison";
    public const string MemberEvents = "member-events";

    public static readonly IReadOnlyList<string> All = [BookingEvents, BookingEventsPoison, MemberEvents];
}

/// <summary>Table names used by the pipeline.</summary>
public static class TableNames
{
    public const string Bookings = "Bookings";

    /// <summary>The disclosure ledger: one hash chain per subject partition, plus its head row.</summary>
    public const string DisclosureLedger = "DisclosureLedger";

    /// <summary>memberId → random ledger pseudonym; erasure deletes the mapping.</summary>
    public const string Subjects = "Subjects";

    public static readonly IReadOnlyList<string> All = [Bookings, DisclosureLedger, Subjects];
}

/// <summary>Blob containers used by the pipeline.</summary>
public static class BlobContainerNames
{
    /// <summary>Poisoned messages too large to travel in a queue envelope are kept here whole.</summary>
    public const string PoisonPayloads = "poison-payloads";

    /// <summary>The ledger's daily digests: an append blob of digest lines plus the head list each one covers.</summary>
    public const string LedgerDigests = "ledger-digests";

    public static readonly IReadOnlyList<string> All = [PoisonPayloads, LedgerDigests];
}
