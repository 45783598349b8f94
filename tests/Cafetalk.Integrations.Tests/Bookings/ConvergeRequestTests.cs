using Cafetalk.Integrations.Bookings;

namespace Cafetalk.Integrations.Tests.Bookings;

public sealed class ConvergeRequestTests
{
    [Fact]
    public void TryParse_WhatConvergeRequestsWrites_RoundTrips() =>
        Assert.Equal(new ConvergeRequest("lec_4412", "bk_01JD8Z6Q3V6M2X"), ConvergeRequest.TryParse(new ConvergeRequest("lec_4412", "bk_01JD8Z6Q3V6M2X").ToJson()));

    // Found by fuzzing (QueueHandlerFuzzTests, zoom-converge, calendar-converge and recording-converge): ids that are not
    // table keys were accepted, every converger's table read then failed with 400, and the host retried the message five
    // times before poisoning it without a reason.
    [Theory]
    [InlineData("{\"lecturerId\":\"a/b\",\"bookingId\":\"tOsJYU8bHPtEg\"}")]
    [InlineData("{\"lecturerId\":\"TxboUPLLg4T\",\"bookingId\":\"https://Mkr!7q9Zx.example/\"}")]
    [InlineData("{\"lecturerId\":\"SgD\",\"bookingId\":\"a#b\"}")]
    [InlineData("{\"lecturerId\":\"3A4EDVG\",\"bookingId\":\"a?b\"}")]
    [InlineData("{\"lecturerId\":\"a\\u0000\",\"bookingId\":\"X.iPxCakrk\"}")]
    [InlineData("{\"lecturerId\":\" \",\"bookingId\":\"XP2GhdLanu\"}")]
    [InlineData("{\"lecturerId\":\"\\uFF41\\uFF11\",\"bookingId\":\"iq\"}")]
    [InlineData("{\"lecturerId\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"bookingId\":\"0pnDss\"}")]
    [InlineData("{\"lecturerId\":\"_a\",\"bookingId\":\"Upx\"}")]
    [InlineData("{\"lecturerId\":\"\\ud800\",\"bookingId\":\"bk\"}")]
    public void TryParse_IdThatIsNotAPipelineId_IsRefused(string message) =>
        Assert.Null(ConvergeRequest.TryParse(message));

    // Unpaired surrogates cannot come off a real queue (the host decodes UTF-8), but the parse must not throw on them.
    [Fact]
    public void TryParse_TextWithAnUnpairedSurrogate_IsRefusedWithoutThrowing() =>
        Assert.Null(ConvergeRequest.TryParse("{\"lecturerId\":\"lec\uD800\",\"bookingId\":\"bk\"}"));

    [Fact]
    public void TryParse_TheHandOffFields_RoundTrip_AndAPlainRequestCarriesNone()
    {
        var handedOn = new ConvergeRequest("lec_4412", "bk_01JD8Z6Q3V6M2X") { SentMarkers = ["SiteOutboxMeetingReady:0123456789abcdef"] };
        var then = new ConvergeRequest("lec_4412", "bk_01JD8Z6Q3V6M2X") { Then = ["calendar-converge"] };

        Assert.Equal(handedOn, ConvergeRequest.TryParse(handedOn.ToJson()));
        Assert.Equal(then, ConvergeRequest.TryParse(then.ToJson()));
        Assert.True(ConvergeRequest.TryParse(then.ToJson())!.AsksAfter("calendar-converge"));
        Assert.Equal("{\"lecturerId\":\"lec_4412\",\"bookingId\":\"bk_01JD8Z6Q3V6M2X\"}", new ConvergeRequest("lec_4412", "bk_01JD8Z6Q3V6M2X").ToJson());
    }

    // The hand-off fields steer another converger and clear outbox columns: only the shapes the pipeline writes are read.
    [Theory]
    [InlineData("{\"lecturerId\":\"lec\",\"bookingId\":\"bk\",\"then\":[\"zoom-converge\"]}")]
    [InlineData("{\"lecturerId\":\"lec\",\"bookingId\":\"bk\",\"then\":[\"booking-events\",\"calendar-converge\"]}")]
    [InlineData("{\"lecturerId\":\"lec\",\"bookingId\":\"bk\",\"then\":\"calendar-converge\"}")]
    [InlineData("{\"lecturerId\":\"lec\",\"bookingId\":\"bk\",\"then\":[null]}")]
    [InlineData("{\"lecturerId\":\"lec\",\"bookingId\":\"bk\",\"sentMarkers\":[\"ZoomJoinUrl:0123456789abcdef\"]}")]
    [InlineData("{\"lecturerId\":\"lec\",\"bookingId\":\"bk\",\"sentMarkers\":[\"SiteOutboxMeetingReady:0123456789ABCDEF\"]}")]
    [InlineData("{\"lecturerId\":\"lec\",\"bookingId\":\"bk\",\"sentMarkers\":[\"SiteOutboxMeetingReady:0123\"]}")]
    [InlineData("{\"lecturerId\":\"lec\",\"bookingId\":\"bk\",\"sentMarkers\":[\"SiteOutboxMeetingReady:0123456789abcdef https://Mkr!7q9Zx.example/\"]}")]
    [InlineData("{\"lecturerId\":\"lec\",\"bookingId\":\"bk\",\"sentMarkers\":{\"a\":1}}")]
    [InlineData("{\"lecturerId\":\"lec\",\"bookingId\":\"bk\",\"sentMarkers\":[\"SiteOutboxA:0123456789abcdef\",\"SiteOutboxB:0123456789abcdef\",\"SiteOutboxC:0123456789abcdef\",\"SiteOutboxD:0123456789abcdef\",\"SiteOutboxE:0123456789abcdef\",\"SiteOutboxF:0123456789abcdef\",\"SiteOutboxG:0123456789abcdef\",\"SiteOutboxH:0123456789abcdef\",\"SiteOutboxI:0123456789abcdef\"]}")]
    public void Read_AHandOffFieldThePipelineDoesNotWrite_IsRefusedWithOneReason(string message)
    {
        var reading = ConvergeRequest.Read(message);

        Assert.Null(ConvergeRequest.TryParse(message));
        Assert.Equal(RejectionReasons.InvalidField, reading.Reason);
        Assert.DoesNotContain("Mkr!7q9Zx", reading.Detail ?? string.Empty, StringComparison.Ordinal);
    }
}
