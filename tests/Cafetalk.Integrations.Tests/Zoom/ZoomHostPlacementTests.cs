using Cafetalk.Integrations.Zoom;

namespace Cafetalk.Integrations.Tests.Zoom;

/// <summary>Choosing a pool host: no overlap on a lane, the gap kept, stable choices, creates spread by daily headroom.</summary>
public sealed class ZoomHostPlacementTests
{
    private static readonly DateTimeOffset Nine = new(2026, 12, 10, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Gap = TimeSpan.FromMinutes(10);

    private static ZoomHostLoad Host(string id, int concurrency = 1, int used = 0, int limit = 100, params (int Lane, DateTimeOffset Start, int Minutes, string Booking)[] lessons)
    {
        var taken = new Dictionary<(int Lane, string Slot), string>();
        foreach (var (lane, start, minutes, booking) in lessons)
        {
            foreach (var slot in ZoomHostSlots.For(start, minutes, Gap))
            {
                taken[(lane, slot)] = booking;
            }
        }

        return new ZoomHostLoad(new ZoomPoolHost(id, concurrency, limit), used, taken);
    }

    private static ZoomPlacementRequest Lesson(DateTimeOffset start, int minutes = 50, string booking = "bk_new", string? current = null, int? lane = null) =>
        new(booking, ZoomHostSlots.For(start, minutes, Gap), current, lane);

    [Fact]
    public void Slots_CoverTheLessonAndTheGap_RoundedOutward()
    {
        Assert.Equal(12, ZoomHostSlots.For(Nine, 50, Gap).Count); // 09:00 to 10:00
        Assert.Equal("202612100900", ZoomHostSlots.For(Nine, 50, Gap)[0]);
        Assert.Equal("202612100955", ZoomHostSlots.For(Nine, 50, Gap)[^1]);
        var odd = ZoomHostSlots.For(Nine.AddMinutes(7), 25, TimeSpan.Zero); // 09:07-09:32 → 09:05..09:30
        Assert.Equal(["202612100905", "202612100910", "202612100915", "202612100920", "202612100925", "202612100930"], odd);
    }

    [Fact]
    public void Choose_OverlappingLesson_GoesToAnotherHost()
    {
        var pool = new[] { Host("host-a", lessons: (0, Nine, 50, "bk_a")), Host("host-b") };

        Assert.Equal(new ZoomHostChoice("host-b", 0), ZoomHostPlacement.Choose(pool, Lesson(Nine.AddMinutes(30))));
    }

    [Fact]
    public void Choose_NextLessonWithinTheGap_IsAnOverlap_AfterTheGap_FitsTheSameHost()
    {
        var pool = new[] { Host("host-a", lessons: (0, Nine, 50, "bk_a")) };

        Assert.Null(ZoomHostPlacement.Choose(pool, Lesson(Nine.AddMinutes(55))));
        Assert.Equal(new ZoomHostChoice("host-a", 0), ZoomHostPlacement.Choose(pool, Lesson(Nine.AddMinutes(60))));
    }

    [Fact]
    public void Choose_HostWithConcurrencyTwo_UsesItsSecondLane()
    {
        var pool = new[] { Host("host-a", concurrency: 2, lessons: (0, Nine, 50, "bk_a")) };

        Assert.Equal(new ZoomHostChoice("host-a", 1), ZoomHostPlacement.Choose(pool, Lesson(Nine)));
        var full = new[] { Host("host-a", concurrency: 2, lessons: [(0, Nine, 50, "bk_a"), (1, Nine, 50, "bk_b")]) };
        Assert.Null(ZoomHostPlacement.Choose(full, Lesson(Nine)));
    }

    [Fact]
    public void Choose_EveryHostBusy_ReturnsNone()
    {
        var pool = new[] { Host("host-a", lessons: (0, Nine, 50, "bk_a")), Host("host-b", lessons: (0, Nine.AddMinutes(20), 25, "bk_b")) };

        Assert.Null(ZoomHostPlacement.Choose(pool, Lesson(Nine.AddMinutes(10), 25)));
    }

    [Fact]
    public void Choose_SpreadsCreates_ToTheHostWithMostAllowanceLeft()
    {
        var pool = new[] { Host("host-a", used: 40), Host("host-b", used: 10), Host("host-c", used: 25) };

        Assert.Equal("host-b", ZoomHostPlacement.Choose(pool, Lesson(Nine))!.HostId);
    }

    [Fact]
    public void Choose_HostOutOfAllowanceToday_IsSkippedEvenWhenFree()
    {
        var pool = new[] { Host("host-a", used: 100), Host("host-b", used: 7, limit: 8), Host("host-c", used: 8, limit: 8) };

        Assert.Equal("host-b", ZoomHostPlacement.Choose(pool, Lesson(Nine))!.HostId);
        Assert.Null(ZoomHostPlacement.Choose([Host("host-a", used: 100)], Lesson(Nine)));
    }

    [Fact]
    public void Choose_AmongEquallyFreeHosts_RepeatsForABooking_AndSpreadsDifferentBookings()
    {
        var pool = Enumerable.Range(1, 8).Select(i => Host($"host-{i}", used: i)).ToArray(); // all within the spread band

        var first = ZoomHostPlacement.Choose(pool, Lesson(Nine, booking: "bk_x"))!.HostId;
        var reversed = ZoomHostPlacement.Choose(pool.Reverse().ToArray(), Lesson(Nine, booking: "bk_x"))!.HostId;
        var chosen = Enumerable.Range(0, 40).Select(i => ZoomHostPlacement.Choose(pool, Lesson(Nine, booking: $"bk_{i}"))!.HostId).ToHashSet();

        Assert.Equal(first, reversed);
        Assert.True(chosen.Count >= 5, $"40 concurrent bookings went to only {chosen.Count} of 8 hosts");
    }

    [Fact]
    public void Choose_HostFarBelowTheMostAllowance_IsNotChosenWhileOthersFit()
    {
        var pool = new[] { Host("host-a", used: 0), Host("host-b", used: ZoomHostPlacement.SpreadBand + 1) };

        Assert.All(Enumerable.Range(0, 20), i => Assert.Equal("host-a", ZoomHostPlacement.Choose(pool, Lesson(Nine, booking: $"bk_{i}"))!.HostId));
    }

    [Fact]
    public void Choose_IsStable_KeepsTheCurrentHostWhenTheNewTimeStillFits_EvenWithLessAllowance()
    {
        var pool = new[] { Host("host-a", used: 90, lessons: (0, Nine, 50, "bk_mine")), Host("host-b", used: 0) };

        // Rescheduled 15 minutes later: its own slots do not block it.
        Assert.Equal(new ZoomHostChoice("host-a", 0), ZoomHostPlacement.Choose(pool, Lesson(Nine.AddMinutes(15), booking: "bk_mine", current: "host-a", lane: 0)));
    }

    [Fact]
    public void Choose_RescheduleIntoAnOverlap_MovesToAnotherHost()
    {
        var pool = new[] { Host("host-a", lessons: [(0, Nine, 50, "bk_mine"), (0, Nine.AddHours(2), 50, "bk_other")]), Host("host-b") };

        var choice = ZoomHostPlacement.Choose(pool, Lesson(Nine.AddHours(2).AddMinutes(20), booking: "bk_mine", current: "host-a", lane: 0));

        Assert.Equal(new ZoomHostChoice("host-b", 0), choice);
    }

    [Fact]
    public void Choose_AfterALostRace_PrefersTheHostWhereTheBookingAlreadyHoldsSlots()
    {
        // bk_mine reserved host-b earlier but its claim lost; host-a now has more allowance left.
        var pool = new[] { Host("host-a", used: 0), Host("host-b", used: 50, lessons: (0, Nine, 50, "bk_mine")) };

        Assert.Equal(new ZoomHostChoice("host-b", 0), ZoomHostPlacement.Choose(pool, Lesson(Nine, booking: "bk_mine")));
    }

    [Fact]
    public void Choose_CurrentHostNoLongerInThePool_PlacesAfresh()
    {
        var pool = new[] { Host("host-b") };

        Assert.Equal(new ZoomHostChoice("host-b", 0), ZoomHostPlacement.Choose(pool, Lesson(Nine, booking: "bk_mine", current: "host-gone", lane: 0)));
    }

    [Fact]
    public void Choose_CurrentLaneTaken_KeepsTheHostOnItsOtherLane()
    {
        var pool = new[] { Host("host-a", concurrency: 2, used: 50, lessons: [(0, Nine.AddHours(1), 50, "bk_other")]), Host("host-b") };

        var choice = ZoomHostPlacement.Choose(pool, Lesson(Nine.AddHours(1), booking: "bk_mine", current: "host-a", lane: 0));

        Assert.Equal(new ZoomHostChoice("host-a", 1), choice);
    }

    [Fact]
    public void Choose_EmptyPool_ReturnsNone() => Assert.Null(ZoomHostPlacement.Choose([], Lesson(Nine)));

    [Theory]
    [InlineData(0, 10)]
    [InlineData(17, 25)]
    [InlineData(3, 240)]
    public void Choose_NeverReturnsAHostWhoseLaneOverlaps(int seedOffset, int minutes)
    {
        // A day of random lessons placed one after another: no lane of any host ever holds two that overlap.
        var random = new Random(1234 + seedOffset);
        var hosts = new Dictionary<string, Dictionary<(int, string), string>> { ["h1"] = [], ["h2"] = [], ["h3"] = [] };
        for (var i = 0; i < 200; i++)
        {
            var start = Nine.AddMinutes(random.Next(0, 12 * 60));
            var request = Lesson(start, minutes, $"bk_{i}");
            var loads = hosts.Select(h => new ZoomHostLoad(new ZoomPoolHost(h.Key, 1, 1000), 0, h.Value)).ToList();
            if (ZoomHostPlacement.Choose(loads, request) is not { } choice)
            {
                continue;
            }

            foreach (var slot in request.Slots)
            {
                Assert.True(hosts[choice.HostId].TryAdd((choice.Lane, slot), request.BookingId), $"slot {slot} of {choice.HostId} given twice");
            }
        }
    }
}
