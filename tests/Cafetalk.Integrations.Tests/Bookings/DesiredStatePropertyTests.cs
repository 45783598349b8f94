using Cafetalk.Integrations.Bookings;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Cafetalk.Integrations.Tests.Bookings;

public sealed class DesiredStatePropertyTests
{
    private static readonly string[] Types =
    [
        EventTypes.BookingConfirmed, EventTypes.BookingRescheduled, EventTypes.BookingCancelled, EventTypes.BookingCompleted,
    ];

    /// <summary>One booking's history: versions 1..n, each with its own start, duration, status and consent.</summary>
    private static Gen<BookingEvent[]> History() =>
        from count in Gen.Choose(1, 8)
        from events in Gen.ArrayOf(OneEvent(), count)
        select events.Select((e, i) => e with { Version = i + 1, EventId = $"evt-{i + 1}" }).ToArray();

    private static Gen<BookingEvent> OneEvent() =>
        from type in Gen.Elements(Types)
        from hour in Gen.Choose(0, 23)
        from minutes in Gen.Choose(1, 240)
        from lecturer in Gen.Elements(true, false)
        from student in Gen.Elements(true, false)
        select new BookingEvent("evt", type, "bk_1", 0, "lec_1", "stu_1",
            new DateTimeOffset(2027, 3, 2, hour, 0, 0, TimeSpan.Zero), minutes, "Asia/Tokyo", new RecordingConsent(lecturer, student));

    /// <summary>The history delivered in any order, every event at least once and some several times.</summary>
    private static Gen<(BookingEvent[] History, BookingEvent[] Delivered)> Deliveries() =>
        from history in History()
        from copies in Gen.ArrayOf(Gen.Choose(1, 3), history.Length)
        let repeated = history.SelectMany((e, i) => Enumerable.Repeat(e, copies[i])).ToArray()
        from delivered in Gen.Shuffle(repeated)
        select (history, delivered);

    [Property(MaxTest = 500)]
    public Property Merge_AnyPermutationAndDuplication_EndsInTheHighestVersion() =>
        Prop.ForAll(Deliveries().ToArbitrary(), sample =>
        {
            var final = sample.Delivered.Aggregate((DesiredState?)null, (state, e) => DesiredState.Merge(state, e) ?? state);
            var newest = sample.History.MaxBy(e => e.Version)!;
            return final == DesiredState.From(newest);
        });

    [Property(MaxTest = 200)]
    public Property Merge_SecondDeliveryOfTheSameEvent_ChangesNothing() =>
        Prop.ForAll(History().ToArbitrary(), history =>
        {
            var state = history.Aggregate((DesiredState?)null, (s, e) => DesiredState.Merge(s, e) ?? s);
            return history.All(e => DesiredState.Merge(state, e) is null);
        });

    [Fact]
    public void Merge_CancelSeenBeforeItsConfirm_StaysCancelled()
    {
        var confirm = new BookingEvent("e1", EventTypes.BookingConfirmed, "bk_1", 1, "lec_1", "stu_1",
            new DateTimeOffset(2027, 3, 2, 10, 0, 0, TimeSpan.Zero), 50, "Asia/Tokyo", new RecordingConsent(true, true));
        var cancel = confirm with { EventId = "e2", Type = EventTypes.BookingCancelled, Version = 2 };

        var state = DesiredState.Merge(DesiredState.Merge(null, cancel), confirm);

        Assert.Null(state);
        Assert.Equal(BookingStatus.Cancelled, DesiredState.Merge(null, cancel)!.Status);
    }
}
