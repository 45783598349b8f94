using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Sandbox;

namespace Cafetalk.Integrations.IntegrationTests.Faults;

/// <summary>Where a booking must end up once everything has converged.</summary>
internal sealed record ExpectedBooking(
    string LecturerId,
    string BookingId,
    string StudentId,
    bool Confirmed,
    DateTimeOffset StartsAtUtc,
    int DurationMinutes,
    bool BothConsent)
{
    /// <summary>Zoom signed a recording.completed for it in the afternoon.</summary>
    public bool Recorded { get; set; }
}

/// <summary>
/// A day of bookings as the demo runs it, smaller: lecturers in three time zones (two connected to Google Calendar),
/// confirmations, reschedules, cancellations and cancels that overtake their confirm, half of them with both recording
/// consents. Every event can be delivered several times, and the whole lot shuffled, from one seed.
/// </summary>
internal sealed class FaultDay
{
    public static readonly string[] Lecturers = ["lec_fault_berlin", "lec_fault_tokyo", "lec_fault_newyork"];
    private static readonly string[] Zones = ["Europe/Berlin", "Asia/Tokyo", "America/New_York"];

    /// <summary>Lecturers who connect their Google Calendar before the day starts.</summary>
    public static readonly string[] ConnectedLecturers = [Lecturers[0], Lecturers[1]];

    public FaultDay(int bookings, DateTimeOffset now, string prefix = "bk_fault")
    {
        var tomorrow = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddDays(1).AddHours(6);
        for (var i = 0; i < bookings; i++)
        {
            var lecturer = i % Lecturers.Length;
            var student = $"stu_fault_{(i % 6) + 1}";
            var bookingId = $"{prefix}_{i + 1:D3}";
            var startsAt = tomorrow.AddHours(i % 12).AddDays(i / 12);
            var duration = i % 3 == 0 ? 25 : 50;
            var bothConsent = i % 2 == 0;
            string Event(string type, long version, DateTimeOffset at) =>
                SampleEvents.Booking(type, bookingId, version, at, Lecturers[lecturer], student, duration, Zones[lecturer], true, bothConsent);

            var events = new List<string> { Event(EventTypes.BookingConfirmed, 1, startsAt) };
            var version = 1L;
            var finalStart = startsAt;
            if (i % 4 == 1)
            {
                finalStart = startsAt.AddMinutes(30);
                events.Add(Event(EventTypes.BookingRescheduled, ++version, finalStart));
            }

            var cancelled = i % 5 == 2;
            if (cancelled)
            {
                events.Add(Event(EventTypes.BookingCancelled, ++version, finalStart));
                if (i % 10 == 2)
                {
                    // The cancel overtakes its confirm on the queue.
                    events.Reverse();
                }
            }

            BookingEvents.Add(events);
            Bookings.Add(new ExpectedBooking(Lecturers[lecturer], bookingId, student, !cancelled, finalStart, duration, bothConsent));
        }
    }

    public List<ExpectedBooking> Bookings { get; } = [];

    /// <summary>Each booking's events in the order the booking system sends them.</summary>
    public List<List<string>> BookingEvents { get; } = [];

    public int EventCount => BookingEvents.Sum(e => e.Count);

    /// <summary>Every event <paramref name="deliveries"/> times; shuffled with <paramref name="seed"/>, or in sending order when null.</summary>
    public List<string> Deliveries(int deliveries, int? seed)
    {
        var all = Enumerable.Range(0, deliveries).SelectMany(_ => BookingEvents.SelectMany(e => e)).ToList();
        if (seed is { } s)
        {
            new Random(s).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(all));
        }

        return all;
    }
}
