namespace Cafetalk.Integrations.Bookings;

/// <summary>The CloudEvent types the booking system publishes on <c>booking-events</c>.</summary>
public static class EventTypes
{
    public const string BookingConfirmed = "com.cafetalk.booking.confirmed";
    public const string BookingRescheduled = "com.cafetalk.booking.rescheduled";
    public const string BookingCancelled = "com.cafetalk.booking.cancelled";
    public const string BookingCompleted = "com.cafetalk.booking.completed";
    public const string MemberErasureRequested = "com.cafetalk.member.erasure-requested";
    public const string NewsletterSubscribed = "com.cafetalk.newsletter.subscribed";

    public static readonly IReadOnlySet<string> Booking = new HashSet<string>(StringComparer.Ordinal)
    {
        BookingConfirmed, BookingRescheduled, BookingCancelled, BookingCompleted,
    };

    public static readonly IReadOnlySet<string> Member = new HashSet<string>(StringComparer.Ordinal)
    {
        MemberErasureRequested, NewsletterSubscribed,
    };

    public static bool IsKnown(string type) => Booking.Contains(type) || Member.Contains(type);
}
