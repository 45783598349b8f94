using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;

namespace Cafetalk.Integrations.Tests.Bookings;

/// <summary>The outbox's marker columns: what they hold (never a secret or a row key), and that a decoded marker is the same notification.</summary>
public sealed class SiteOutboxMarkerTests
{
    private const string JoinUrl = "https://us02web.zoom.us/j/85012345678?pwd=secret";

    public static TheoryData<string> Markers() => ["meeting-ready", "meeting-removed", "recording-available", "recording-removed", "recording-upload-failed"];

    private static SiteOutboxMarker Make(string name) => name switch
    {
        "meeting-ready" => SiteOutboxMarker.MeetingReady(3, new DateTimeOffset(2026, 12, 10, 9, 0, 0, TimeSpan.Zero), "corr-1"),
        "meeting-removed" => SiteOutboxMarker.MeetingRemoved(4, "cancelled", "corr-1"),
        "recording-available" => SiteOutboxMarker.RecordingAvailable(3, "1043257711", ["cafetalk.com", "www.cafetalk.com"], "corr-1"),
        "recording-removed" => SiteOutboxMarker.RecordingRemoved(3, "retention", "corr-1"),
        _ => SiteOutboxMarker.RecordingUploadFailed(3, 5, zoomCopyKept: true, "corr-1"),
    };

    private static SiteNotification Notification(SiteOutboxMarker marker)
    {
        var data = new Dictionary<string, object?>(marker.Data) { ["bookingId"] = "bk_1", ["lecturerId"] = "lec_1" };
        if (marker.Type == SiteNotificationTypes.MeetingReady)
        {
            data["joinUrl"] = JoinUrl;
        }

        return new SiteNotification(marker.Type, data);
    }

    [Theory]
    [MemberData(nameof(Markers))]
    public void Decode_OfEncode_IsTheSameNotification_SameIdSameMessage(string name)
    {
        var marker = Make(name);

        var decoded = SiteOutboxMarker.Decode(marker.Type, marker.Encode())!;

        Assert.Equal(marker.Encode(), decoded.Encode());
        Assert.Equal(Notification(marker).Id, Notification(decoded).Id);
        Assert.Equal(Notification(marker).ToCloudEvent(DateTimeOffset.UnixEpoch), Notification(decoded).ToCloudEvent(DateTimeOffset.UnixEpoch));
    }

    [Theory]
    [MemberData(nameof(Markers))]
    public void Encode_HoldsNoRowKeyAndNoSecretField(string name)
    {
        var marker = Make(name);

        var encoded = marker.Encode();

        Assert.DoesNotContain("bookingId", encoded, StringComparison.Ordinal);
        Assert.DoesNotContain("lecturerId", encoded, StringComparison.Ordinal);
        foreach (var secret in marker.Type.Fields.Where(f => f.Secret))
        {
            Assert.DoesNotContain(secret.Name, encoded, StringComparison.Ordinal);
        }

        Assert.Contains("\"bookingVersion\":", encoded, StringComparison.Ordinal);
    }

    [Fact]
    public void MeetingReady_Encoded_IsTheVersionStartAndCorrelationOnly()
    {
        var marker = Make("meeting-ready");

        Assert.Equal("""{"bookingVersion":3,"startsAt":"2026-12-10T09:00:00Z","correlationId":"corr-1"}""", marker.Encode());
        Assert.Equal("SiteOutboxMeetingReady", marker.Column);
    }

    [Fact]
    public void For_AJoinLink_IsRefused_NamingTheFieldNotItsValue()
    {
        var data = new Dictionary<string, object?> { ["bookingVersion"] = 3L, ["joinUrl"] = JoinUrl };

        var refused = Assert.Throws<ArgumentException>(() => SiteOutboxMarker.For(SiteNotificationTypes.MeetingReady, data));

        Assert.Contains("data.joinUrl", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("zoom.us", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void For_ATypeThatIsNotABookingRowFact_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => SiteOutboxMarker.For(SiteNotificationTypes.CalendarConnected, new Dictionary<string, object?>()));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Decode_AnEmptyColumn_IsNoMarker(string? column)
    {
        Assert.Null(SiteOutboxMarker.Decode(SiteNotificationTypes.MeetingReady, column));
    }

    [Fact]
    public void Decode_TextThatIsNotAMarker_Throws_WithoutQuotingIt()
    {
        var thrown = Assert.Throws<FormatException>(() => SiteOutboxMarker.Decode(SiteNotificationTypes.MeetingReady, "https://leak.example/"));

        Assert.DoesNotContain("leak", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ColumnOf_EveryOutboxType_IsDistinct_AndNamedAfterTheType()
    {
        var columns = SiteOutbox.Types.Select(SiteOutbox.ColumnOf).ToList();

        Assert.Equal(["SiteOutboxMeetingReady", "SiteOutboxMeetingRemoved", "SiteOutboxRecordingAvailable", "SiteOutboxRecordingRemoved", "SiteOutboxRecordingUploadFailed"], columns);
    }

    [Fact]
    public void Pending_ReadsOnlyNonEmptyMarkers_OfTheAskedTypes()
    {
        var row = new TableEntity("lec_1", "bk_1")
        {
            ["SiteOutboxMeetingReady"] = Make("meeting-ready").Encode(),
            ["SiteOutboxMeetingRemoved"] = string.Empty,
            ["SiteOutboxRecordingRemoved"] = Make("recording-removed").Encode(),
        };

        Assert.Equal([SiteNotificationTypes.MeetingReady, SiteNotificationTypes.RecordingRemoved], SiteOutbox.Pending(row).Select(m => m.Type));
        Assert.Equal([SiteNotificationTypes.MeetingReady], SiteOutbox.Pending(row, [SiteNotificationTypes.MeetingReady, SiteNotificationTypes.MeetingRemoved]).Select(m => m.Type));
    }
}
