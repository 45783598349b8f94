using System.Globalization;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Zoom;

/// <summary>What a change made in Zoom meant for our booking.</summary>
public enum MeetingChangeOutcome
{
    /// <summary>Not one of our meetings (or the booking is gone): left alone.</summary>
    NotOurs,

    /// <summary>Zoom reports what we hold or want (the echo of our own update or delete): nothing to do.</summary>
    OwnChange,

    /// <summary>Changed by hand and put back to the booking's desired state.</summary>
    Restored,

    /// <summary>Changed by hand; putting it back failed or must wait (the converger's own retry and the nightly pass follow).</summary>
    NotRestoredYet,
}

/// <summary>
/// Handles <c>zoom-meeting-changes</c>: a meeting of ours deleted or moved in Zoom's web portal. The booking is found by
/// the meeting id the converger stored; Zoom's word is written as the row's facts (the meeting is gone, or starts
/// then), the meeting converger makes Zoom match the booking again (a new meeting and link, or the time put back,
/// the calendar event following), and the site hears what was changed back
/// (<c>com.cafetalk.booking.changed-outside</c>). Our own updates and deletes come back as the same webhooks: Zoom
/// then reports what the row already holds, and nothing is done. Ids and times only.
/// </summary>
public sealed class ZoomMeetingChanges(
    BookingRows rows,
    MeetingConverger converger,
    SiteNotifier notifier,
    QueueMessageRunner runner,
    StorageAccount storage,
    ILogger<ZoomMeetingChanges> logger)
{
    public Task<MeetingChangeOutcome?> HandleAsync(string message, string? messageId, CancellationToken cancellationToken = default) =>
        runner.RunAsync<ZoomEventMessage, MeetingChangeOutcome?>(QueueNames.ZoomMeetingChanges, message, messageId, Read, PutBackAsync, cancellationToken: cancellationToken);

    /// <summary>A minimised meeting.deleted or meeting.updated naming a meeting; anything else is refused.</summary>
    private static QueueMessageReading<ZoomEventMessage> Read(string message) =>
        ZoomEventMessage.TryParse(message) is { MeetingId: not null, Event: ZoomEventMessage.MeetingDeleted or ZoomEventMessage.MeetingUpdated } change
            ? QueueMessageReading.Read(change)
            : QueueMessageReading.Refused<ZoomEventMessage>(RejectionReasons.InvalidField, "message is not a minimised meeting.deleted or meeting.updated");

    private async Task<MeetingChangeOutcome?> PutBackAsync(QueueMessage<ZoomEventMessage> message, CancellationToken cancellationToken)
    {
        var (change, correlationId) = (message.Value, message.CorrelationId);
        var meetingId = change.MeetingId!.Value;
        var id = meetingId.ToString(CultureInfo.InvariantCulture);
        var row = await FindAsync(id, cancellationToken);
        if (row is null)
        {
            logger.LogInformation("Zoom {ZoomEvent} for meeting {MeetingId}: no booking of ours; left alone", change.Event, id);
            return MeetingChangeOutcome.NotOurs;
        }

        var facts = ZoomMeetingColumns.Read(row);
        var desired = BookingRow.ToDesiredState(row);
        var observed = change.Event == ZoomEventMessage.MeetingDeleted ? null : Observed(change);
        var handChange = change.Event == ZoomEventMessage.MeetingDeleted
            ? facts.HasLiveMeeting && desired.Status != BookingStatus.Cancelled ? "deleted" : null
            : observed is { } o && Differs(o, facts.StartsAtUtc, facts.DurationMinutes) && Differs(o, desired.StartsAtUtc, desired.DurationMinutes) ? "moved" : null;
        if (handChange is null)
        {
            logger.LogInformation("Zoom {ZoomEvent} for meeting {MeetingId} of booking {BookingId}: our own change; nothing to do", change.Event, id, desired.BookingId);
            return MeetingChangeOutcome.OwnChange;
        }

        // Zoom's word is what Zoom holds now; the converger compares it with the booking and acts on the difference.
        await rows.WriteUnguardedAsync(handChange == "deleted"
            ? ZoomMeetingColumns.Forgotten(row)
            : ZoomMeetingColumns.Observed(row, observed!.Value.StartsAtUtc, observed.Value.Duration), cancellationToken);
        logger.LogWarning("Zoom meeting {MeetingId} of booking {BookingId} was {Change} in Zoom; putting it back", id, desired.BookingId, handChange);

        var restored = false;
        try
        {
            var result = await converger.ConvergeAsync(desired.LecturerId, desired.BookingId, correlationId, cancellationToken);
            restored = result.Outcome is MeetingConvergence.Created or MeetingConvergence.Updated or MeetingConvergence.UpToDate;
        }
        catch (Exception ex) when (ex is ZoomDailyLimitReachedException or ZoomApiException or HttpRequestException or BookingStateConflictException)
        {
            // The facts are written: the zoom-converge retry, the starts-soon check and the nightly pass all see them.
            logger.LogWarning("Putting back Zoom meeting {MeetingId} of booking {BookingId} failed ({Error}); the converger's retries follow", id, desired.BookingId, ex.GetType().Name);
            await storage.Queue(QueueNames.ZoomConverge).SendMessageAsync(new ConvergeRequest(desired.LecturerId, desired.BookingId).ToJson(), cancellationToken);
        }

        await notifier.PublishAsync(SiteNotificationTypes.ChangedOutside, new Dictionary<string, object?>
        {
            ["bookingId"] = desired.BookingId,
            ["lecturerId"] = desired.LecturerId,
            [SiteNotificationTypes.BookingVersionField] = desired.Version,
            ["provider"] = "zoom",
            ["change"] = handChange,
            ["restored"] = restored,
            [SiteNotificationTypes.CorrelationField] = correlationId,
        }, cancellationToken);
        return restored ? MeetingChangeOutcome.Restored : MeetingChangeOutcome.NotRestoredYet;
    }

    private async Task<TableEntity?> FindAsync(string meetingId, CancellationToken cancellationToken)
    {
        // Rare (a hand edit, or the echo of our own change), so a query on the stored id rather than an index kept on every create.
        var filter = $"{MeetingColumns.MeetingId} eq {TableClient.CreateQueryFilter($"{meetingId}")}";
        await foreach (var row in rows.QueryAsync(filter, cancellationToken: cancellationToken))
        {
            return row;
        }

        return null;
    }

    // A field Zoom did not report is unchanged; one it reported differs only when it is not what we hold.
    private static bool Differs((DateTimeOffset? StartsAtUtc, int? Duration) observed, DateTimeOffset? startsAtUtc, int? duration) =>
        observed.StartsAtUtc is { } s && s != startsAtUtc || observed.Duration is { } d && d != duration;

    private static (DateTimeOffset? StartsAtUtc, int? Duration)? Observed(ZoomEventMessage change) =>
        (DateTimeOffset.TryParse(change.StartTime, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var start) ? start : null,
         change.DurationMinutes);
}
