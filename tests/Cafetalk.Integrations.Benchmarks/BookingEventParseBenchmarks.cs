using BenchmarkDotNet.Attributes;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Sandbox;

namespace Cafetalk.Integrations.Benchmarks;

/// <summary>
/// What intake does with every queue message before touching storage: <see cref="BookingEventParser.Parse"/> on a
/// confirmed event as the booking system sends it (names, emails, phone, notes included) and on two refusals.
/// </summary>
[MemoryDiagnoser]
public class BookingEventParseBenchmarks
{
    public const string BookingId = "bk_01JD8Z6Q3V6M2X";

    private BookingEventParser _parser = null!;

    public string ConfirmedEvent { get; private set; } = string.Empty;

    public string UnknownTimeZoneEvent { get; private set; } = string.Empty;

    public string TruncatedEvent { get; private set; } = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        _parser = new BookingEventParser(BenchmarkClock.Stopped);
        // The first line of ../shared/samples/booking-events.sample.jsonl, encoded by the CloudEvents SDK as the booking system does.
        var startsAt = new DateTimeOffset(2027, 3, 2, 10, 0, 0, TimeSpan.Zero);
        ConfirmedEvent = SampleEvents.Booking(EventTypes.BookingConfirmed, BookingId, 1, startsAt, eventId: "9f1c2c8e-1d1e-4a53-9a57-0d2c5d9e8a01");
        UnknownTimeZoneEvent = SampleEvents.Booking(EventTypes.BookingConfirmed, BookingId, 1, startsAt, timeZone: "Mars/Olympus_Mons");
        // A message cut off in transit: the most common way a message is not JSON.
        TruncatedEvent = ConfirmedEvent[..(ConfirmedEvent.Length * 3 / 4)];
    }

    [Benchmark(Baseline = true)]
    public ParseResult Confirmed() => _parser.Parse(ConfirmedEvent);

    [Benchmark]
    public ParseResult RejectedUnknownTimeZone() => _parser.Parse(UnknownTimeZoneEvent);

    [Benchmark]
    public ParseResult RejectedNotJson() => _parser.Parse(TruncatedEvent);
}
