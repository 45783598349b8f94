using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Sandbox;

namespace Cafetalk.Integrations.Cli.Demo;

/// <summary>
/// A realistic, repeatable day for the demo: lecturers in three time zones, confirmations, reschedules and
/// cancellations (one cancel arriving before its confirm), redeliveries, newsletter subscriptions, and a few
/// malformed messages. Seeded, so every run publishes the same day relative to now.
/// </summary>
internal sealed class DemoDay
{
    public static readonly string[] Lecturers = ["lec_demo_berlin", "lec_demo_tokyo", "lec_demo_newyork"];
    private static readonly string[] Zones = ["Europe/Berlin", "Asia/Tokyo", "America/New_York"];

    public DemoDay(int bookings, DateTimeOffset now)
    {
        var random = new Random(20261125);
        var tomorrow = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddDays(1).AddHours(6);
        var events = new List<string>();
        var late = new List<string>();
        for (var i = 0; i < bookings; i++)
        {
            var lecturer = i % Lecturers.Length;
            var student = $"stu_demo_{(i % 8) + 1}";
            var bookingId = $"bk_demo_{i + 1:D4}";
            var startsAt = tomorrow.AddHours(i % 12).AddDays(i / 12);
            var bothConsent = i % 2 == 0;
            string Event(string type, long version, DateTimeOffset at) =>
                SampleEvents.Booking(type, bookingId, version, at, Lecturers[lecturer], student, i % 3 == 0 ? 25 : 50, Zones[lecturer], true, bothConsent);

            var confirm = Event(EventTypes.BookingConfirmed, 1, startsAt);
            Bookings.Add((Lecturers[lecturer], bookingId, student, bothConsent));
            var version = 1L;
            var cancelled = i % 5 == 2;
            if (cancelled && i % 10 == 2)
            {
                // The cancel overtakes its confirm on the queue.
                events.Add(Event(EventTypes.BookingCancelled, 2, startsAt));
                events.Add(confirm);
                Cancelled.Add(bookingId);
                continue;
            }

            events.Add(confirm);
            if (random.Next(4) == 0)
            {
                late.Add(confirm); // redelivered later by the queue
            }

            if (i % 4 == 1)
            {
                events.Add(Event(EventTypes.BookingRescheduled, ++version, startsAt.AddMinutes(30)));
            }

            if (cancelled)
            {
                events.Add(Event(EventTypes.BookingCancelled, ++version, startsAt));
                Cancelled.Add(bookingId);
            }
        }

        // Every lecturer teaches at 18:00: none has their own Zoom user, so the three lessons need three pool hosts.
        for (var l = 0; l < Lecturers.Length; l++)
        {
            var bookingId = $"bk_demo_overlap_{l + 1}";
            Bookings.Add((Lecturers[l], bookingId, $"stu_demo_{l + 5}", false));
            events.Add(SampleEvents.Booking(EventTypes.BookingConfirmed, bookingId, 1, tomorrow.AddHours(12), Lecturers[l], $"stu_demo_{l + 5}", 50, Zones[l], true, false));
        }

        for (var s = 1; s <= 4; s++)
        {
            events.Add(SampleEvents.NewsletterSubscribed($"stu_demo_{s}", $"stu_demo_{s}@example.jp", "cafetalk-news", s % 2 == 0 ? "en" : "ja"));
        }

        events.AddRange(late);
        events.Add("{ \"specversion\": \"1.0\", truncated");
        events.Add(SampleEvents.Encode("com.cafetalk.booking.teleported", new System.Text.Json.Nodes.JsonObject { ["bookingId"] = "bk_demo_x" }, "demo-bad-type"));
        events.Add(SampleEvents.Booking(EventTypes.BookingConfirmed, "bk_demo_bad", 1, tomorrow, durationMinutes: 0));
        Events = events;
    }

    /// <summary>The Zoom users of the demo's host pool (concurrency 1 each): lessons of lecturers without their own go on them.</summary>
    public static readonly string[] PoolHosts = ["sandbox-pool-host-1", "sandbox-pool-host-2", "sandbox-pool-host-3"];

    /// <summary>The messages of the morning, in publishing order.</summary>
    public IReadOnlyList<string> Events { get; }

    public List<(string LecturerId, string BookingId, string StudentId, bool BothConsent)> Bookings { get; } = [];

    public HashSet<string> Cancelled { get; } = new(StringComparer.Ordinal);

    /// <summary>The student who asks for erasure in the afternoon.</summary>
    public const string ErasedStudent = "stu_demo_8";

    /// <summary>The student who clicks unsubscribe in a newsletter.</summary>
    public const string UnsubscribingStudent = "stu_demo_1";

    /// <summary>The member whose disclosures the demo shows.</summary>
    public const string ShownMember = "stu_demo_2";

    /// <summary>The lesson 90 minutes away whose meeting only the starts-soon check makes.</summary>
    public const string SoonBooking = "bk_demo_soon";
}
