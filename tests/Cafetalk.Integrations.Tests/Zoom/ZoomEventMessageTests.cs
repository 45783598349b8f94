using Cafetalk.Integrations.Vimeo;
using Cafetalk.Integrations.Zoom;

namespace Cafetalk.Integrations.Tests.Zoom;

public sealed class ZoomEventMessageTests
{
    private const string Recording = """{"event":"recording.completed","eventTs":TS,"meetingId":81786987870,"meetingUuid":"uuid-1786987870==","downloadToken":"dl-1","recordingFiles":[]}""";

    [Fact]
    public void TryParse_AZoomTimestamp_KeepsWhenZoomSentIt()
    {
        var parsed = ZoomEventMessage.TryParse(Recording.Replace("TS", "1790000073717", StringComparison.Ordinal));

        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1790000073717), parsed!.SentAtUtc);
    }

    // Found by fuzzing (MessageParserFuzzTests, zoom-events inputs #207, #236, #1431): an eventTs no DateTimeOffset holds was
    // accepted, and SentAtUtc threw ArgumentOutOfRangeException in the archiver once the meeting had a booking.
    [Theory]
    [InlineData("-9223372036854775808")]
    [InlineData("9223372036854775807")]
    [InlineData("253402300800000")]
    [InlineData("-1")]
    public void TryParse_EventTsNoCalendarHolds_IsRefused(string eventTs) =>
        Assert.Null(ZoomEventMessage.TryParse(Recording.Replace("TS", eventTs, StringComparison.Ordinal)));

    // Found by fuzzing (zoom-events input #67): an unpaired surrogate made the parse throw ArgumentException. A queue never
    // delivers one (the host decodes UTF-8), but the parse reads the text as the UTF-8 a queue would carry, as U+FFFD.
    [Fact]
    public void TryParse_UnpairedSurrogateInAnUnknownKey_ReadsTheEventWithoutThrowing() =>
        Assert.Equal("meeting.ended", ZoomEventMessage.TryParse("{\"event\":\"meeting.ended\",\"eq\uDC39ventTs\":1790000563857}")!.Event);

    [Fact]
    public void TryParse_EscapedUnpairedSurrogateAsTheEvent_IsRefused() =>
        Assert.Null(ZoomEventMessage.TryParse("{\"event\":\"\\ud800\",\"meetingId\":1}"));
}
