using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;

namespace Cafetalk.Integrations.Zoom;

/// <summary>What the converger last knew Zoom to hold for a booking (the <c>Zoom*</c> columns of its <c>Bookings</c> row).</summary>
internal sealed record ZoomMeetingFacts(
    string? MeetingId,
    string? HostId,
    bool Deleted,
    DateTimeOffset? StartsAtUtc,
    int? DurationMinutes,
    string? TimeZone,
    string? AutoRecording,
    DateTimeOffset? CreateLeaseUntilUtc,
    int? HostLane = null)
{
    public bool HasLiveMeeting => MeetingId is not null && !Deleted;

    /// <summary>The meeting sits on a pool host (lane recorded), not on the lecturer's own Zoom user or the default host.</summary>
    public bool OnPoolHost => HostId is not null && HostLane is >= 0;

    /// <summary>The time zone is left out: it only labels a UTC start_time, so a meeting labelled otherwise is not re-sent (each update spends the host's daily 100).</summary>
    public bool Matches(DesiredState desired) =>
        StartsAtUtc == desired.StartsAtUtc
        && DurationMinutes == desired.DurationMinutes
        && AutoRecording == ZoomMeetingPayload.AutoRecording(desired.RecordingConsent);
}

/// <summary>The converger's columns on a <c>Bookings</c> row; desired-state writes merge around them and never touch them.</summary>
internal static class ZoomMeetingColumns
{
    public const string MeetingId = MeetingColumns.MeetingId;
    public const string HostId = "ZoomHostId";
    public const string Deleted = "ZoomDeleted";
    public const string StartsAtUtc = "ZoomStartsAtUtc";
    public const string DurationMinutes = "ZoomDurationMinutes";
    public const string TimeZone = "ZoomTimeZone";
    public const string AutoRecording = MeetingColumns.AutoRecording;
    public const string CreateLeaseUntilUtc = "ZoomCreateLeaseUntilUtc";

    /// <summary>The pool host lane whose slots the meeting holds; -1 when the host is not from the pool.</summary>
    public const string HostLane = "ZoomHostLane";
    public const string ConvergedVersion = "ZoomConvergedVersion";
    public const string ConvergedAtUtc = "ZoomConvergedAtUtc";

    /// <summary>The meeting's join link, for the lecturer's calendar event; a personal value, never logged.</summary>
    public const string JoinUrl = MeetingColumns.JoinUrl;

    /// <summary>Table storage has no null and no DateTimeOffset.MinValue; a lease in year 1701 is as good as none.</summary>
    private static readonly DateTimeOffset NoLease = new(1701, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static ZoomMeetingFacts Read(TableEntity row) => new(
        BookingRowColumns.NullIfEmpty(row.GetString(MeetingId)),
        BookingRowColumns.NullIfEmpty(row.GetString(HostId)),
        row.GetBoolean(Deleted) ?? false,
        row.GetDateTimeOffset(StartsAtUtc),
        row.GetInt32(DurationMinutes),
        BookingRowColumns.NullIfEmpty(row.GetString(TimeZone)),
        BookingRowColumns.NullIfEmpty(row.GetString(AutoRecording)),
        NoLeaseAsNull(row.GetDateTimeOffset(CreateLeaseUntilUtc)),
        row.GetInt32(HostLane));

    /// <summary>Claims the booking for a create; Table storage cannot store null, so "no value" is written as empty.</summary>
    public static TableEntity Lease(TableEntity row, string hostId, DateTimeOffset until, int lane = -1) => BookingRowColumns.Of(row, new()
    {
        [MeetingId] = string.Empty,
        [HostId] = hostId,
        [HostLane] = lane,
        [Deleted] = false,
        [CreateLeaseUntilUtc] = until,
    });

    public static TableEntity Released(TableEntity row) => BookingRowColumns.Of(row, new() { [CreateLeaseUntilUtc] = NoLease });

    public static TableEntity Live(TableEntity row, string meetingId, string hostId, DesiredState desired, DateTimeOffset now, string? joinUrl = null, int? lane = null) => WithLane(WithJoinUrl(BookingRowColumns.Of(row, new()
    {
        [MeetingId] = meetingId,
        [HostId] = hostId,
        [Deleted] = false,
        [StartsAtUtc] = desired.StartsAtUtc,
        [DurationMinutes] = desired.DurationMinutes,
        [TimeZone] = ZoomMeetingPayload.MeetingTimeZone,
        [AutoRecording] = ZoomMeetingPayload.AutoRecording(desired.RecordingConsent),
        [CreateLeaseUntilUtc] = NoLease,
        [ConvergedVersion] = desired.Version,
        [ConvergedAtUtc] = now,
    }), joinUrl), lane);

    private static TableEntity WithLane(TableEntity columns, int? lane)
    {
        if (lane is { } value)
        {
            columns[HostLane] = value;
        }

        return columns;
    }

    /// <summary>A meeting found by its reference after a crash: recorded as Zoom holds it, so the next pass patches any difference.</summary>
    public static TableEntity Adopted(TableEntity row, string meetingId, string hostId, ZoomMeeting meeting, DateTimeOffset now) => WithJoinUrl(BookingRowColumns.Of(row, new()
    {
        [MeetingId] = meetingId,
        [HostId] = hostId,
        [Deleted] = false,
        [StartsAtUtc] = meeting.StartTime?.ToUniversalTime() ?? NoLease,
        [DurationMinutes] = meeting.Duration,
        [TimeZone] = meeting.Timezone ?? string.Empty,
        [AutoRecording] = string.Empty,
        [CreateLeaseUntilUtc] = NoLease,
        [ConvergedAtUtc] = now,
    }), meeting.JoinUrl);

    /// <summary>Writes the join link only when Zoom told us one; an update (204, no body) keeps the stored link.</summary>
    private static TableEntity WithJoinUrl(TableEntity columns, string? joinUrl)
    {
        if (joinUrl is not null)
        {
            columns[JoinUrl] = joinUrl;
        }

        return columns;
    }

    public static TableEntity DeletedMeeting(TableEntity row, DateTimeOffset now) => BookingRowColumns.Of(row, new()
    {
        [Deleted] = true,
        [ConvergedVersion] = row.GetInt64(BookingRow.Version) ?? 0,
        [ConvergedAtUtc] = now,
    });

    /// <summary>What Zoom said it holds after a change made outside Cafetalk: the facts the converger compares with the desired state.</summary>
    public static TableEntity Observed(TableEntity row, DateTimeOffset? startsAtUtc, int? durationMinutes)
    {
        var observed = BookingRowColumns.Of(row, []);
        if (startsAtUtc is { } start)
        {
            observed[StartsAtUtc] = start;
        }

        if (durationMinutes is { } duration)
        {
            observed[DurationMinutes] = duration;
        }

        return observed;
    }

    /// <summary>A meeting deleted to move it to another pool host: forgotten, with no lane, so the next create places it afresh.</summary>
    public static TableEntity Moved(TableEntity row)
    {
        var columns = Forgotten(row);
        columns[HostLane] = -1;
        return columns;
    }

    public static TableEntity Forgotten(TableEntity row) => BookingRowColumns.Of(row, new() { [MeetingId] = string.Empty, [Deleted] = false, [JoinUrl] = string.Empty });

    private static DateTimeOffset? NoLeaseAsNull(DateTimeOffset? value) => value is { } v && v <= NoLease ? null : value;
}
