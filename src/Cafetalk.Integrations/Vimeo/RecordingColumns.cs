using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;

namespace Cafetalk.Integrations.Vimeo;

/// <summary>What the recording pipeline last knew about a booking's recording (the <c>Recording*</c>/<c>Vimeo*</c> columns of its row).</summary>
internal sealed record RecordingFacts(
    string? VideoId,
    bool VideoDeleted,
    DateTimeOffset? UploadLeaseUntilUtc,
    bool UploadCompleted,
    int UploadAttempts,
    bool EmbedDomainsAllowed,
    string? FolderId,
    DateTimeOffset? ZoomRecordingDeletedAtUtc,
    DateTimeOffset? WithdrawnAtUtc,
    string? Disposition)
{
    public bool HasLiveVideo => VideoId is not null && !VideoDeleted;
}

/// <summary>
/// The recording pipeline's columns on a <c>Bookings</c> row. Desired-state writes merge around them; only the
/// recording pipeline writes them, so facts are merged unconditionally and only the upload lease is ETag-guarded.
/// </summary>
internal static class RecordingColumns
{
    public const string Disposition = "RecordingDisposition";
    public const string VideoId = "VimeoVideoId";
    public const string UploadedAtUtc = "VimeoUploadedAtUtc";
    public const string UploadLeaseUntilUtc = "VimeoUploadLeaseUntilUtc";
    public const string UploadCompleted = "VimeoUploadCompleted";
    public const string UploadAttempts = "VimeoUploadAttempts";
    public const string FailedAtUtc = "RecordingFailedAtUtc";
    public const string EmbedDomainsAllowed = "VimeoEmbedDomainsAllowed";
    public const string FolderId = "VimeoFolderId";
    public const string VideoDeleted = "VimeoVideoDeleted";
    public const string VideoDeletedAtUtc = "VimeoVideoDeletedAtUtc";
    public const string VideoDeletedReason = "VimeoVideoDeletedReason";
    public const string ZoomRecordingDeletedAtUtc = "ZoomRecordingDeletedAtUtc";
    public const string WithdrawnAtUtc = "RecordingWithdrawnAtUtc";

    /// <summary>The Zoom recording instances (meeting UUIDs) whose cloud copies were deleted, space-separated.</summary>
    public const string ZoomDeletedInstances = "ZoomRecordingDeletedInstances";

    /// <summary>Recording instances Zoom finished after a party's erasure whose delete failed, space-separated: the nightly sweep retries them.</summary>
    public const string ZoomLateDeletesPending = "ZoomLateDeletesPending";

    /// <summary>The recording is on Vimeo (or was, until it was deleted).</summary>
    public const string Archived = "Archived";

    /// <summary>Every upload attempt failed: Zoom's copy is kept, the site was told, nothing more is tried on its own.</summary>
    public const string UploadFailed = "UploadFailed";

    /// <summary>Zoom's copy was deleted and nothing uploaded: a consent was missing, or the booking was cancelled or erased.</summary>
    public const string Discarded = "Discarded";

    /// <summary>Table storage has no null; a lease in year 1701 is as good as none.</summary>
    private static readonly DateTimeOffset NoLease = new(1701, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static RecordingFacts Read(TableEntity row) => new(
        BookingRowColumns.NullIfEmpty(row.GetString(VideoId)),
        row.GetBoolean(VideoDeleted) ?? false,
        row.GetDateTimeOffset(UploadLeaseUntilUtc) is { } lease && lease > NoLease ? lease : null,
        row.GetBoolean(UploadCompleted) ?? false,
        row.GetInt32(UploadAttempts) ?? 0,
        row.GetBoolean(EmbedDomainsAllowed) ?? false,
        BookingRowColumns.NullIfEmpty(row.GetString(FolderId)),
        row.GetDateTimeOffset(ZoomRecordingDeletedAtUtc),
        row.GetDateTimeOffset(WithdrawnAtUtc),
        BookingRowColumns.NullIfEmpty(row.GetString(Disposition)));

    public static RecordingParties Parties(TableEntity row) =>
        new(row.RowKey, row.PartitionKey, row.GetString(BookingRow.StudentId) ?? string.Empty, BookingRow.ErasedStudent(row));

    public static TableEntity Lease(TableEntity row, DateTimeOffset until) => BookingRowColumns.Of(row, new() { [UploadLeaseUntilUtc] = until });

    public static TableEntity LeaseReleased(TableEntity row) => BookingRowColumns.Of(row, new() { [UploadLeaseUntilUtc] = NoLease });

    /// <summary>The video exists on Vimeo (its bytes may still be arriving); the lease stays until the upload completes.</summary>
    public static TableEntity VideoCreated(TableEntity row, string videoId, DateTimeOffset now) => BookingRowColumns.Of(row, new()
    {
        [VideoId] = videoId,
        [UploadedAtUtc] = now,
        [UploadCompleted] = false,
        [VideoDeleted] = false,
    });

    /// <summary>A video whose upload Vimeo ended in error, deleted so the next attempt makes a new one.</summary>
    public static TableEntity VideoAbandoned(TableEntity row) => BookingRowColumns.Of(row, new() { [VideoId] = string.Empty });

    /// <summary>Vimeo reports every byte received: the recording is archived and the lease released.</summary>
    public static TableEntity UploadDone(TableEntity row) => BookingRowColumns.Of(row, new()
    {
        [Disposition] = Archived,
        [UploadCompleted] = true,
        [UploadLeaseUntilUtc] = NoLease,
    });

    /// <summary>One more upload attempt starts (counted before it runs, so a crashing attempt still counts) under a renewed lease.</summary>
    public static TableEntity AttemptStarted(TableEntity row, int attempt, DateTimeOffset leaseUntil) => BookingRowColumns.Of(row, new()
    {
        [UploadAttempts] = attempt,
        [UploadLeaseUntilUtc] = leaseUntil,
    });

    /// <summary>An attempt Vimeo refused for the token (403), not for the recording: it is not counted, and the lease goes.</summary>
    public static TableEntity AttemptGivenBack(TableEntity row, int attemptsSpent) => BookingRowColumns.Of(row, new()
    {
        [UploadAttempts] = attemptsSpent,
        [UploadLeaseUntilUtc] = NoLease,
    });

    public static TableEntity Failed(TableEntity row, DateTimeOffset now) => BookingRowColumns.Of(row, new()
    {
        [Disposition] = UploadFailed,
        [FailedAtUtc] = now,
        [UploadLeaseUntilUtc] = NoLease,
    });

    public static TableEntity DomainsAllowed(TableEntity row) => BookingRowColumns.Of(row, new() { [EmbedDomainsAllowed] = true });

    public static TableEntity InFolder(TableEntity row, string folderId) => BookingRowColumns.Of(row, new() { [FolderId] = folderId });

    public static TableEntity ZoomCopyDeleted(TableEntity row, DateTimeOffset now, string? disposition, string? instance = null) => BookingRowColumns.Of(row, new()
    {
        [ZoomRecordingDeletedAtUtc] = now,
        [Disposition] = disposition ?? row.GetString(Disposition) ?? Discarded,
        [ZoomDeletedInstances] = instance is null ? row.GetString(ZoomDeletedInstances) ?? string.Empty : string.Join(' ', DeletedInstances(row).Append(instance).Distinct(StringComparer.Ordinal)),
        [ZoomLateDeletesPending] = string.Join(' ', LateDeletesPending(row).Where(i => i != instance)),
    });

    public static IReadOnlyList<string> DeletedInstances(TableEntity row) =>
        (row.GetString(ZoomDeletedInstances) ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A late recording's delete failed: kept on the row, so it is retried even if the webhook's message ends in poison.</summary>
    public static TableEntity LateDeletePending(TableEntity row, string instance) => BookingRowColumns.Of(row, new()
    {
        [ZoomLateDeletesPending] = string.Join(' ', LateDeletesPending(row).Append(instance).Distinct(StringComparer.Ordinal)),
    });

    public static IReadOnlyList<string> LateDeletesPending(TableEntity row) =>
        (row.GetString(ZoomLateDeletesPending) ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public static TableEntity VideoGone(TableEntity row, DateTimeOffset now, string reason) => BookingRowColumns.Of(row, new()
    {
        [VideoDeleted] = true,
        [VideoDeletedAtUtc] = now,
        [VideoDeletedReason] = reason,
    });

    public static TableEntity Withdrawn(TableEntity row, DateTimeOffset now) => BookingRowColumns.Of(row, new() { [WithdrawnAtUtc] = now });
}
