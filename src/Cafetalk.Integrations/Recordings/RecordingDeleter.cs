using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Vimeo;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Recordings;

/// <summary>Why a recording was deleted from Vimeo (the row's <c>VimeoVideoDeletedReason</c>).</summary>
public static class RecordingDeletionReasons
{
    public const string Retention = "retention";
    public const string Cancelled = "cancelled";
    public const string Erasure = "erasure";
}

/// <summary>What an erasure did to a member's recordings.</summary>
public sealed record MemberRecordingsErased(int Bookings, int VideosDeleted, int ZoomCopiesDeleted, bool FolderDeleted);

/// <summary>
/// Deletes lesson recordings from Vimeo when they must go: past retention (the nightly sweep), when the booking is
/// cancelled (the <c>recording-converge</c> queue, with the sweep as a backstop) and when a party asks for erasure.
/// Every delete is recorded in the ledger for both parties; a 404 from Vimeo counts as done.
/// </summary>
public sealed class RecordingDeleter(
    StorageAccount storage,
    BookingRows rows,
    VimeoClient vimeo,
    ZoomRecordingsClient zoomRecordings,
    VimeoFolders folders,
    RecordingDisclosures disclosures,
    RecordingArchiver archiver,
    IOptions<VimeoOptions> options,
    TimeProvider time,
    ILogger<RecordingDeleter> logger)
{
    private static readonly string[] DeleteVideoFields = ["path:videoId"];
    private static readonly string[] ZoomDeleteFields = ["path:meetingId", "query:action"];


    /// <summary>The <c>recording-converge</c> step: a cancelled booking's video is deleted. True when one was.</summary>
    public async Task<bool> ConvergeAsync(string lecturerId, string bookingId, string correlationId, CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var run = await new ConvergeLoop(rows).RunAsync(lecturerId, bookingId, new CancelledVideoRun(this, correlationId), cancellationToken);
        return run.Result;
    }

    /// <summary>One <c>recording-converge</c> of one booking, plugged into <see cref="ConvergeLoop"/>: the plan is the live video to delete.</summary>
    private sealed class CancelledVideoRun(RecordingDeleter deleter, string correlationId) : IProviderConverger<string, bool>
    {
        public bool NoBooking => false;

        // Only this converger writes the video columns, and a video once deleted stays deleted: nothing to read again.
        public bool ReadsAgainWhenRowMoved => false;

        public IReadOnlyList<SiteNotificationType> Notifies { get; } = [SiteNotificationTypes.RecordingRemoved];

        public Task<ConvergePlan<string, bool>> PlanAsync(BookingSnapshot booking, CancellationToken cancellationToken) =>
            Task.FromResult(IsCancelled(booking.Row) && RecordingColumns.Read(booking.Row) is { HasLiveVideo: true, VideoId: { } videoId }
                ? ConvergePlan.Act<string, bool>(videoId)
                : ConvergePlan.Nothing<string, bool>(false));

        public async Task<ConvergeAct<bool>> ActAsync(BookingSnapshot booking, string videoId, CancellationToken cancellationToken) =>
            new(true, await deleter.DeleteFromVimeoAsync(booking.Row, videoId, RecordingDeletionReasons.Cancelled, correlationId, cancellationToken))
            {
                Notify = [Removed(booking.Row, RecordingDeletionReasons.Cancelled, correlationId)],
            };
    }

    /// <summary>
    /// The nightly sweep: deletes every live video uploaded longer ago than the retention, and any left on a cancelled
    /// booking (a lost <c>recording-converge</c> message), then retries late recordings' deletes at Zoom that failed
    /// after an erasure (<see cref="RecordingArchiver.RetryLateDeletesAsync"/>). Returns how many videos were deleted.
    /// </summary>
    public async Task<int> SweepAsync(string correlationId, CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var cutoff = time.GetUtcNow() - options.Value.RecordingRetention;
        // A property a row lacks compares false, so rows that never had a video are not read at all.
        var filter = TableClient.CreateQueryFilter(
            $"VimeoVideoDeleted eq false and (VimeoUploadedAtUtc le {cutoff} or Status eq {nameof(BookingStatus.Cancelled)})");
        var deleted = 0;
        await foreach (var row in rows.QueryAsync(filter, cancellationToken: cancellationToken))
        {
            var reason = row.GetDateTimeOffset(RecordingColumns.UploadedAtUtc) <= cutoff ? RecordingDeletionReasons.Retention : RecordingDeletionReasons.Cancelled;
            if (await DeleteVideoAsync(row, reason, correlationId, cancellationToken))
            {
                deleted++;
            }
        }

        logger.LogInformation("Recording retention sweep deleted {Deleted} Vimeo videos (retention {RetentionDays} days)", deleted, options.Value.RecordingRetention.TotalDays);
        await archiver.RetryLateDeletesAsync(correlationId, cancellationToken);
        return deleted;
    }

    /// <summary>
    /// Erasure of a member ([7] calls this before it forgets the member's ledger pseudonym): every booking where they
    /// are lecturer or student is marked so no later recording is uploaded, its Vimeo video is deleted, a Zoom cloud
    /// copy not yet handled is deleted, and a lecturer's folder goes too.
    /// </summary>
    public async Task<MemberRecordingsErased> DeleteRecordingsOfMemberAsync(string memberId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(memberId);
        await storage.EnsureProvisionedAsync(cancellationToken);
        var correlationId = Guid.NewGuid().ToString("N");
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {memberId} or StudentId eq {memberId}");
        var (bookings, videos, zoomCopies) = (0, 0, 0);
        await foreach (var row in rows.QueryAsync(filter, cancellationToken: cancellationToken))
        {
            bookings++;
            // Marked first, so a recording.completed handled meanwhile discards instead of uploading.
            await rows.WriteUnguardedAsync(RecordingColumns.Withdrawn(row, time.GetUtcNow()), cancellationToken);
            if (await DeleteVideoAsync(row, RecordingDeletionReasons.Erasure, correlationId, cancellationToken))
            {
                videos++;
            }

            if (await DeleteUnhandledZoomCopyAsync(row, correlationId, cancellationToken))
            {
                zoomCopies++;
            }
        }

        var folderDeleted = await folders.DeleteAsync(memberId, correlationId, cancellationToken);
        logger.LogInformation("Erasure of member {MemberId}: {Bookings} bookings, {Videos} Vimeo videos and {ZoomCopies} Zoom recordings deleted, folder deleted: {FolderDeleted}",
            memberId, bookings, videos, zoomCopies, folderDeleted);
        return new MemberRecordingsErased(bookings, videos, zoomCopies, folderDeleted);
    }

    /// <summary>Deletes the row's live video, if any; true when one was deleted (or Vimeo had already lost it).</summary>
    private async Task<bool> DeleteVideoAsync(TableEntity row, string reason, string correlationId, CancellationToken cancellationToken)
    {
        var facts = RecordingColumns.Read(row);
        if (!facts.HasLiveVideo)
        {
            return false;
        }

        // Marks that only move one way: no ETag needed. The site's notice lands in the same write and is sent after.
        var gone = await DeleteFromVimeoAsync(row, facts.VideoId!, reason, correlationId, cancellationToken);
        await rows.Outbox.WriteAndSendAsync(row, gone, [Removed(row, reason, correlationId)], cancellationToken);
        return true;
    }

    /// <summary>The site's notice that the booking's recording is gone (the contract says <c>erased</c> where the row says <c>erasure</c>).</summary>
    private static SiteOutboxMarker Removed(TableEntity row, string reason, string correlationId) =>
        SiteOutboxMarker.RecordingRemoved(row.GetInt64(BookingRow.Version) ?? 0, reason == RecordingDeletionReasons.Erasure ? "erased" : reason, correlationId);

    /// <summary>Deletes <paramref name="videoId"/> at Vimeo (ledger rows for both parties); returns the row's columns that say it is gone.</summary>
    private async Task<TableEntity> DeleteFromVimeoAsync(TableEntity row, string videoId, string reason, string correlationId, CancellationToken cancellationToken)
    {
        var existed = await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.VimeoLessonRecording, "delete", RecordingColumns.Parties(row), DeleteVideoFields, videoId, correlationId,
            context => vimeo.DeleteVideoAsync(videoId, context, cancellationToken), _ => videoId, cancellationToken);
        logger.LogInformation("Vimeo video {VideoId} of booking {BookingId} deleted ({Reason}; it {Existed} on Vimeo)", videoId, row.RowKey, reason, existed ? "existed" : "was already gone");
        return RecordingColumns.VideoGone(row, time.GetUtcNow(), reason);
    }

    /// <summary>A lesson recorded to Zoom's cloud whose recording was never handled: Zoom's copy may still be there.</summary>
    private async Task<bool> DeleteUnhandledZoomCopyAsync(TableEntity row, string correlationId, CancellationToken cancellationToken)
    {
        var facts = RecordingColumns.Read(row);
        var meetingId = row.GetString(MeetingColumns.MeetingId);
        var recorded = row.GetString(MeetingColumns.AutoRecording) == MeetingColumns.CloudRecording;
        if (facts.ZoomRecordingDeletedAtUtc is not null || string.IsNullOrEmpty(meetingId) || !recorded || row.GetDateTimeOffset(BookingRow.StartsAtUtc) > time.GetUtcNow())
        {
            return false;
        }

        var existed = await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.ZoomRecordingCleanup, "delete", RecordingColumns.Parties(row), ZoomDeleteFields, meetingId, correlationId,
            context => zoomRecordings.DeleteRecordingAsync(meetingId, context, cancellationToken), _ => meetingId, cancellationToken);
        await rows.WriteUnguardedAsync(RecordingColumns.ZoomCopyDeleted(row, time.GetUtcNow(), RecordingColumns.Discarded), cancellationToken);
        return existed;
    }

    private static bool IsCancelled(TableEntity row) => row.GetString(BookingRow.Status) == nameof(BookingStatus.Cancelled);
}
