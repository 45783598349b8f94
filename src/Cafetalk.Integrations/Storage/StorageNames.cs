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

    public static readonly IReadOnlyList<string> All = [Bookings];
}

/// <summary>Blob containers used by the pipeline.</summary>
public static class BlobContainerNames
{
    /// <summary>Poisoned messages too large to travel in a queue envelope are kept here whole.</summary>
    public const string PoisonPayloads = "poison-payloads";

    public static readonly IReadOnlyList<string> All = [PoisonPayloads];
}
