namespace Cafetalk.Integrations.Bookings;

/// <summary>What a run of <see cref="ConvergeLoop"/> settled on: the answer, whether a provider was changed, and the last read of the row.</summary>
public sealed record ConvergeRun<TResult>(TResult Result, bool Acted, BookingSnapshot? Booking);
