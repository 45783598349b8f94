using System.Security.Cryptography;
using System.Text;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Cafetalk.Integrations.Tests.Storage;

public sealed class PoisonMinimiserTests
{
    // Everything the booking system's sample carries that is not in the contract.
    private static readonly string[] OutsideTheContract =
        ["山田", "hanako.yamada@example.jp", "+81-90", "Anna Schmidt", "anna.schmidt@example.de", "Business German", "Please focus", "Kim Min-jun", "minjun.kim@example.kr", "2800"];

    private static readonly DateTimeOffset Now = new(2027, 2, 1, 0, 0, 0, TimeSpan.Zero);

    private static IEnumerable<string> SampleLines() =>
        File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Samples", "booking-events.sample.jsonl")).Where(l => l.Length > 0);

    [Fact]
    public void Minimise_EveryBookingSampleLine_KeepsNoValueOutsideTheContract_AndStillParsesToTheSameEvent()
    {
        var parser = new BookingEventParser(new FakeTimeProvider(Now));
        foreach (var line in SampleLines().Where(l => l.Contains("com.cafetalk.booking.", StringComparison.Ordinal)))
        {
            var kept = PoisonMinimiser.Minimise(QueueNames.BookingEvents, line);

            Assert.NotNull(kept.Message);
            Assert.All(OutsideTheContract, value => Assert.DoesNotContain(value, kept.Message, StringComparison.Ordinal));
            Assert.True(kept.DroppedFields > 0);
            Assert.Equal(parser.Parse(line).Booking, parser.Parse(kept.Message).Booking);
        }
    }

    [Fact]
    public void Minimise_PlantedValuesInContractFieldsAndExtraNesting_AreDropped()
    {
        var message = SampleEvents.Booking(EventTypes.BookingConfirmed, "bk_1", 1, Now.AddDays(3), tamper: d =>
        {
            d["lecturerTimeZone"] = "Hanako Yamada, diabetic";
            d["bookingId"] = "hanako.yamada@example.jp";
            d["recordingConsent"] = new System.Text.Json.Nodes.JsonObject { ["lecturer"] = true, ["student"] = "ask Hanako", ["reason"] = "health" };
        });

        var kept = PoisonMinimiser.Minimise(QueueNames.BookingEvents, message).Message!;

        Assert.DoesNotContain("Hanako", kept, StringComparison.Ordinal);
        Assert.DoesNotContain("hanako", kept, StringComparison.Ordinal);
        Assert.DoesNotContain("health", kept, StringComparison.Ordinal);
        Assert.All(SampleEvents.PlantedPersonalValues, value => Assert.DoesNotContain(value, kept, StringComparison.Ordinal));
        Assert.Contains("\"lecturer\":true", kept, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(QueueNames.BookingEvents, "Hanako Yamada +81-90-1234-5678 { not json")]
    [InlineData(QueueNames.BookingEvents, "[\"hanako.yamada@example.jp\"]")]
    [InlineData(QueueNames.ZoomEvents, "{\"meetingId\":\"1\",\"downloadToken\":\"secret-token\"}")]
    // Found by the queue handler fuzzer: such names throw only when the object is enumerated.
    [InlineData(QueueNames.CalendarConverge, "{\"lecturerId\":\"a\",\"\\ud800bookingId\":\"Hanako\"}")]
    [InlineData(QueueNames.CalendarConverge, "{\"bookingId\":1,\"lecturerId\":\"a\",\"bookingId\":\"Hanako\"}")]
    public void Minimise_NotAnObjectOrAQueueWithoutContract_KeepsOnlyDigestAndLength(string queue, string message)
    {
        var kept = PoisonMinimiser.Minimise(queue, message);

        Assert.Null(kept.Message);
        Assert.Equal(Encoding.UTF8.GetByteCount(message), kept.Bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(message))), kept.Sha256);
    }

    [Fact]
    public void Minimise_ConvergeRequest_KeepsItsIdsOnly()
    {
        var kept = PoisonMinimiser.Minimise(QueueNames.CalendarConverge, "{\"lecturerId\":\"lec_1\",\"bookingId\":\"bk_1\",\"note\":\"Hanako\"}");

        Assert.Equal(new ConvergeRequest("lec_1", "bk_1"), ConvergeRequest.TryParse(kept.Message!));
        Assert.Equal(1, kept.DroppedFields);
    }
}
