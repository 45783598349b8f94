using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Vimeo;

/// <summary>What handling one <c>recording.completed</c> did.</summary>
public enum RecordingOutcome
{
    /// <summary>No booking has this meeting: not a Cafetalk lesson, nothing done.</summary>
    NoBooking,
    /// <summary>Uploaded to Vimeo (or found there), private, in the lecturer's folder, Zoom's copy deleted.</summary>
    Archived,
    /// <summary>A redelivery: everything was already done, no call was made.</summary>
    AlreadyDone,
    /// <summary>A consent was missing (or the booking was cancelled or erased): Zoom's copy deleted, nothing uploaded.</summary>
    Discarded,
    /// <summary>Must wait (Vimeo still pulling, or another instance uploading): try again at <see cref="RecordingResult.RetryAtUtc"/>.</summary>
    Deferred,
    /// <summary>Zoom has no video file for this recording: Zoom's copy deleted, nothing uploaded.</summary>
    NoVideoFile,
}

public sealed record RecordingResult(RecordingOutcome Outcome, string? BookingId = null, string? VideoId = null, DateTimeOffset? RetryAtUtc = null);

/// <summary>
/// Takes a finished Zoom cloud recording to Vimeo when both lecturer and student consented, and deletes Zoom's copy
/// either way. Each step's result is written to the booking's row, so a redelivery resumes where the last run stopped
/// and never uploads twice: Vimeo has no idempotency key, so an upload takes a lease on the row first, and a lease
/// found expired without a video id is followed by a look-up of the booking reference (the video's description).
/// </summary>
public sealed class RecordingArchiver(
    StorageAccount storage,
    VimeoClient vimeo,
    ZoomRecordingsClient zoomRecordings,
    VimeoFolders folders,
    RecordingReferences references,
    RecordingDisclosures disclosures,
    IOptions<VimeoOptions> options,
    TimeProvider time,
    ILogger<RecordingArchiver> logger)
{
    private const int MaxPasses = 4;
    private static readonly string[] FreshTokenFields = ["path:meetingId", "query:include_fields", "query:ttl"];
    private static readonly string[] ZoomDeleteFields = ["path:meetingId", "query:action"];
    private static readonly string[] FindVideoFields = ["query:query", "query:fields"];
    private static readonly string[] GetVideoFields = ["path:videoId", "query:fields"];
    private static readonly string[] DomainFields = ["path:videoId", "path:domain"];
    private static readonly string[] MoveFields = ["path:projectId", "path:videoId"];

    public async Task<RecordingResult> ArchiveAsync(ZoomEventMessage recording, string correlationId, CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var table = storage.Table(TableNames.Bookings);
        var row = await FindBookingAsync(table, recording.MeetingId, cancellationToken);
        if (row is null || recording.MeetingKey is null)
        {
            logger.LogInformation("Recording of Zoom meeting {MeetingId} belongs to no booking; left alone", recording.MeetingId);
            return new RecordingResult(RecordingOutcome.NoBooking);
        }

        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["CorrelationId"] = correlationId, ["BookingId"] = row.RowKey });
        for (var pass = 1; pass <= MaxPasses; pass++)
        {
            var step = await StepAsync(new Pending(table, row, recording, correlationId), cancellationToken);
            if (step is not null)
            {
                return step;
            }

            // Another instance claimed the booking between our read and our lease: look again.
            row = (await table.GetEntityAsync<TableEntity>(row.PartitionKey, row.RowKey, cancellationToken: cancellationToken)).Value;
        }

        throw new BookingStateConflictException(row.RowKey, MaxPasses);
    }

    private async Task<RecordingResult?> StepAsync(Pending p, CancellationToken cancellationToken)
    {
        var facts = RecordingColumns.Read(p.Row);
        var bookingId = p.Row.RowKey;
        var handled = RecordingColumns.DeletedInstances(p.Row);
        if (facts.ZoomRecordingDeletedAtUtc is not null && handled.Count > 0 && !handled.Contains(p.Recording.MeetingKey!, StringComparer.Ordinal))
        {
            // A meeting stopped and restarted makes a second recording instance: the lesson keeps its first archive,
            // and no copy of the later one may stay in Zoom's cloud.
            await DeleteZoomCopyAsync(p, null, cancellationToken);
            logger.LogInformation("A later recording instance of booking {BookingId} was deleted from Zoom; the lesson keeps its first", bookingId);
            return new RecordingResult(RecordingOutcome.Discarded, bookingId, facts.VideoId);
        }

        var acted = false;
        var videoId = facts.VideoId;
        var pulled = facts.PullCompleted;
        if (videoId is null)
        {
            if (!MayArchive(p.Row, facts))
            {
                return await DiscardAsync(p, facts, RecordingOutcome.Discarded, cancellationToken);
            }

            var now = time.GetUtcNow();
            if (facts.UploadLeaseUntilUtc is { } lease && lease > now)
            {
                return new RecordingResult(RecordingOutcome.Deferred, bookingId, RetryAtUtc: lease);
            }

            // A lease that ran out without a video id: the upload may have reached Vimeo before the crash.
            var adopted = facts.UploadLeaseUntilUtc is null ? null : await FindUploadedAsync(p, cancellationToken);
            if (adopted is not null)
            {
                logger.LogWarning("Interrupted upload for booking {BookingId}: adopted Vimeo video {VideoId} found by its reference", bookingId, adopted.Id);
            }
            else
            {
                if (!await TryLeaseAsync(p, now + options.Value.UploadLease, cancellationToken))
                {
                    return null;
                }

                adopted = await UploadAsync(p, cancellationToken);
                if (adopted is null)
                {
                    return await DiscardAsync(p, facts, RecordingOutcome.NoVideoFile, cancellationToken);
                }
            }

            videoId = adopted.Id!;
            pulled = adopted.IsPulled;
            await RecordingColumns.WriteAsync(p.Table, RecordingColumns.Uploaded(p.Row, videoId, pulled, time.GetUtcNow()), cancellationToken);
            acted = true;
        }

        if (facts.HasLiveVideo || acted)
        {
            if (!facts.EmbedDomainsAllowed)
            {
                foreach (var domain in options.Value.EmbedDomains)
                {
                    await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.VimeoLessonRecording, "update", p.Parties, DomainFields, videoId, p.CorrelationId,
                        context => vimeo.AllowEmbedDomainAsync(videoId, domain, context, cancellationToken), cancellationToken);
                }

                await RecordingColumns.WriteAsync(p.Table, RecordingColumns.DomainsAllowed(p.Row), cancellationToken);
                acted = true;
            }

            if (facts.FolderId is null)
            {
                var folderId = await folders.ResolveAsync(p.Parties, p.CorrelationId, cancellationToken);
                await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.VimeoLessonRecording, "update", p.Parties, MoveFields, videoId, p.CorrelationId,
                    context => vimeo.MoveToFolderAsync(folderId, videoId, context, cancellationToken), cancellationToken);
                await RecordingColumns.WriteAsync(p.Table, RecordingColumns.InFolder(p.Row, folderId), cancellationToken);
                acted = true;
            }

            if (!pulled)
            {
                var state = await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.VimeoLessonRecording, "look-up", p.Parties, GetVideoFields, videoId, p.CorrelationId,
                    context => vimeo.GetVideoAsync(videoId, context, cancellationToken), _ => videoId, cancellationToken);
                if (state is { PullFailed: true })
                {
                    throw new VimeoApiException("pull upload", System.Net.HttpStatusCode.UnprocessableEntity, null);
                }

                if (state is not { IsPulled: true })
                {
                    // Zoom's copy is what Vimeo is pulling from: it stays until Vimeo has the whole file.
                    var retryAt = time.GetUtcNow() + options.Value.PullCheckInterval;
                    logger.LogInformation("Vimeo is still pulling video {VideoId} of booking {BookingId}; looking again at {RetryAtUtc:O}", videoId, bookingId, retryAt);
                    return new RecordingResult(RecordingOutcome.Deferred, bookingId, videoId, retryAt);
                }

                await RecordingColumns.WriteAsync(p.Table, RecordingColumns.Pulled(p.Row), cancellationToken);
            }
        }

        if (facts.ZoomRecordingDeletedAtUtc is null)
        {
            await DeleteZoomCopyAsync(p, RecordingColumns.Archived, cancellationToken);
            acted = true;
        }

        if (acted)
        {
            logger.LogInformation("Recording of booking {BookingId} archived as Vimeo video {VideoId}; Zoom's copy deleted", bookingId, videoId);
        }

        return new RecordingResult(acted ? RecordingOutcome.Archived : RecordingOutcome.AlreadyDone, bookingId, videoId);
    }

    /// <summary>Both parties consented, the booking stands, and neither party has asked for erasure.</summary>
    private static bool MayArchive(TableEntity row, RecordingFacts facts)
    {
        var desired = BookingRow.ToDesiredState(row);
        return desired.RecordingConsent.Both && desired.Status != BookingStatus.Cancelled && facts.WithdrawnAtUtc is null;
    }

    private async Task<RecordingResult> DiscardAsync(Pending p, RecordingFacts facts, RecordingOutcome outcome, CancellationToken cancellationToken)
    {
        if (facts.ZoomRecordingDeletedAtUtc is not null)
        {
            return new RecordingResult(RecordingOutcome.AlreadyDone, p.Row.RowKey);
        }

        await DeleteZoomCopyAsync(p, RecordingColumns.Discarded, cancellationToken);
        logger.LogInformation("Recording of booking {BookingId} not uploaded ({Outcome}); Zoom's copy deleted", p.Row.RowKey, outcome);
        return new RecordingResult(outcome, p.Row.RowKey);
    }

    private async Task DeleteZoomCopyAsync(Pending p, string? disposition, CancellationToken cancellationToken)
    {
        var meeting = p.Recording.MeetingKey!;
        await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.ZoomRecordingCleanup, "delete", p.Parties, ZoomDeleteFields, p.Recording.MeetingId?.ToString(System.Globalization.CultureInfo.InvariantCulture), p.CorrelationId,
            context => zoomRecordings.DeleteRecordingAsync(meeting, context, cancellationToken), _ => null, cancellationToken);
        await RecordingColumns.WriteAsync(p.Table, RecordingColumns.ZoomCopyDeleted(p.Row, time.GetUtcNow(), disposition, p.Recording.MeetingKey), cancellationToken);
    }

    /// <summary>Starts Vimeo's pull of the lesson's video file; null when the recording has no video file.</summary>
    private async Task<VimeoItem?> UploadAsync(Pending p, CancellationToken cancellationToken)
    {
        if (await PullLinkAsync(p, cancellationToken) is not { } link)
        {
            await RecordingColumns.WriteAsync(p.Table, RecordingColumns.LeaseReleased(p.Row), cancellationToken);
            return null;
        }

        var upload = VimeoPullUpload.For(link, references.ForBooking(p.Row.RowKey));
        var created = await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.VimeoLessonRecording, "create", p.Parties, VimeoPullUpload.FieldNames, null, p.CorrelationId,
            context => vimeo.CreatePullUploadAsync(upload, context, cancellationToken), item => item.Id, cancellationToken);
        logger.LogInformation("Vimeo pull upload of booking {BookingId} started as video {VideoId}", p.Row.RowKey, created.Id);
        return created;
    }

    /// <summary>
    /// The link Vimeo pulls from: the webhook's download URL with its token while that token stays valid long enough
    /// for Vimeo to fetch the file, else a fresh download_access_token from Zoom.
    /// </summary>
    private async Task<string?> PullLinkAsync(Pending p, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var recording = p.Recording;
        var expiresAt = recording.SentAtUtc + ZoomRecordingsClient.WebhookDownloadTokenLifetime;
        if (recording.DownloadToken is { Length: > 0 } token && expiresAt - time.GetUtcNow() >= settings.PullLinkMinimumValidity
            && RecordingFileChoice.VideoDownloadUrl((recording.RecordingFiles ?? []).Select(f => (f.FileType, f.RecordingType, f.DownloadUrl))) is { } url)
        {
            return RecordingFileChoice.PullLink(url, token);
        }

        logger.LogInformation("Zoom download token of booking {BookingId} is too close to expiry; asking Zoom for a fresh one", p.Row.RowKey);
        var fresh = await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.ZoomRecordingCleanup, "look-up", p.Parties, FreshTokenFields, recording.MeetingId?.ToString(System.Globalization.CultureInfo.InvariantCulture), p.CorrelationId,
            context => zoomRecordings.GetDownloadAsync(recording.MeetingKey!, settings.FreshDownloadTokenLifetime, context, cancellationToken), _ => null, cancellationToken);
        return fresh is { DownloadAccessToken.Length: > 0 }
            && RecordingFileChoice.VideoDownloadUrl((fresh.Files ?? []).Select(f => (f.FileType, f.RecordingType, f.DownloadUrl))) is { } freshUrl
            ? RecordingFileChoice.PullLink(freshUrl, fresh.DownloadAccessToken)
            : null;
    }

    private async Task<VimeoItem?> FindUploadedAsync(Pending p, CancellationToken cancellationToken)
    {
        var reference = references.ForBooking(p.Row.RowKey);
        var found = await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.VimeoLessonRecording, "look-up", p.Parties, FindVideoFields, null, p.CorrelationId,
            context => vimeo.FindVideosAsync(reference, context, cancellationToken), items => items.Count > 0 ? items[0].Id : null, cancellationToken);
        return found.FirstOrDefault(v => !v.PullFailed);
    }

    private static async Task<bool> TryLeaseAsync(Pending p, DateTimeOffset until, CancellationToken cancellationToken)
    {
        try
        {
            await p.Table.UpdateEntityAsync(RecordingColumns.Lease(p.Row, until), p.Row.ETag, TableUpdateMode.Merge, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            return false;
        }
    }

    /// <summary>The booking whose Zoom meeting this is (the meeting converger wrote its id on the row).</summary>
    internal static async Task<TableEntity?> FindBookingAsync(TableClient table, long? meetingId, CancellationToken cancellationToken)
    {
        if (meetingId is not { } id)
        {
            return null;
        }

        var filter = TableClient.CreateQueryFilter($"ZoomMeetingId eq {id.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, maxPerPage: 1, cancellationToken: cancellationToken))
        {
            return row;
        }

        return null;
    }

    private sealed record Pending(TableClient Table, TableEntity Row, ZoomEventMessage Recording, string CorrelationId)
    {
        public RecordingParties Parties => RecordingColumns.Parties(Row);
    }
}
