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
}
