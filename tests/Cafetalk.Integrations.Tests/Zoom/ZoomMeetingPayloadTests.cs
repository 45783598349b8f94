using System.Text;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Tests.Zoom;

public sealed class ZoomMeetingPayloadTests
{
    private static DesiredState State(bool lecturerConsent = true, bool studentConsent = true) => new(
        "bk_1001", "lec_2087", 3, BookingStatus.Confirmed, "stu_55012",
        new DateTimeOffset(2026, 3, 2, 10, 30, 0, TimeSpan.Zero), 25, "Asia/Tokyo",
        new RecordingConsent(lecturerConsent, studentConsent), "evt-1");

    [Fact]
    public void Serialize_ConfirmedBooking_IsExactlyTheAllowedFields()
    {
        var json = Encoding.UTF8.GetString(ZoomMeetingPayload.Serialize(ZoomMeetingPayload.Build(State(), "cafetalk-ref:0123")));

        Assert.Equal(
            """{"topic":"Cafetalk lesson","type":2,"start_time":"2026-03-02T10:30:00Z","duration":25,"timezone":"UTC","agenda":"cafetalk-ref:0123","settings":{"waiting_room":true,"join_before_host":false,"auto_recording":"cloud"}}""",
            json);
    }

    [Theory]
    [InlineData("Asia/Manila")]
    [InlineData("Asia/Karachi")]
    [InlineData("Africa/Lagos")]
    [InlineData("Europe/Kyiv")]
    [InlineData("Asia/Tokyo")]
    public void Build_AnyLecturerZone_SendsUtc_WhichZoomsTimeZoneListHas(string lecturerZone)
    {
        var request = ZoomMeetingPayload.Build(State() with { LecturerTimeZone = lecturerZone }, "cafetalk-ref:0123");

        Assert.Equal("UTC", request.Timezone);
        Assert.Equal("2026-03-02T10:30:00Z", request.StartTime);
    }

    [Fact]
    public void Serialize_NeverCarriesIds_OfTheMembersOrTheBooking()
    {
        var json = Encoding.UTF8.GetString(ZoomMeetingPayload.Serialize(ZoomMeetingPayload.Build(State(), "cafetalk-ref:0123")));

        Assert.DoesNotContain("stu_55012", json, StringComparison.Ordinal);
        Assert.DoesNotContain("lec_2087", json, StringComparison.Ordinal);
        Assert.DoesNotContain("bk_1001", json, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, true, "cloud")]
    [InlineData(true, false, "none")]
    [InlineData(false, true, "none")]
    [InlineData(false, false, "none")]
    public void Build_AutoRecording_CloudOnlyWhenBothConsented(bool lecturer, bool student, string expected) =>
        Assert.Equal(expected, ZoomMeetingPayload.Build(State(lecturer, student), "ref").Settings.AutoRecording);

    [Fact]
    public void FieldNames_ListEveryPathTheSerializerWrites()
    {
        using var document = System.Text.Json.JsonDocument.Parse(ZoomMeetingPayload.Serialize(ZoomMeetingPayload.Build(State(), "ref")));
        var paths = document.RootElement.EnumerateObject().SelectMany(p => p.Value.ValueKind == System.Text.Json.JsonValueKind.Object
            ? p.Value.EnumerateObject().Select(n => $"{p.Name}.{n.Name}")
            : [p.Name]);

        Assert.Equal(ZoomMeetingPayload.FieldNames.Order(), paths.Order());
    }

    [Fact]
    public void BookingReference_IsStableKeyedAndRevealsNoBookingId()
    {
        var sut = new ZoomBookingReference(Options.Create(new ZoomOptions { BookingReferenceKey = "key-one-0123456789" }));
        var other = new ZoomBookingReference(Options.Create(new ZoomOptions { BookingReferenceKey = "key-two-0123456789" }));

        var reference = sut.For("bk_1001");
        Assert.Equal(reference, sut.For("bk_1001"));
        Assert.NotEqual(reference, sut.For("bk_1002"));
        Assert.NotEqual(reference, other.For("bk_1001"));
        Assert.Matches("^cafetalk-ref:[0-9a-f]{32}$", reference);
    }
}
