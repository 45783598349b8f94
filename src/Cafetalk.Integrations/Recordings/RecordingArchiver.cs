using System.Net;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Vimeo;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Recordings;

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
    /// <summary>Must wait (Vimeo not yet reporting the upload complete, another instance uploading, a token lacking scopes): try again at <see cref="RecordingResult.RetryAtUtc"/>.</summary>
    Deferred,
    /// <summary>Zoom has no video file for this recording: Zoom's copy deleted, nothing uploaded.</summary>
    NoVideoFile,
    /// <summary>Every upload attempt failed: the row says <c>UploadFailed</c>, the site was told, Zoom's copy is kept.</summary>
    UploadFailed,
}

public sealed record RecordingResult(RecordingOutcome Outcome, string? BookingId = null, string? VideoId = null, DateTimeOffset? RetryAtUtc = null);

/// <summary>
/// Takes a finished Zoom cloud recording to Vimeo when both lecturer and student consented, and deletes Zoom's copy
/// once Vimeo reports the upload complete (or at once when nothing may be uploaded). The file is downloaded from Zoom
/// with the download token in the Authorization header and streamed into Vimeo's resumable tus upload one chunk at a
/// time, so memory stays bounded whatever the size. Each step's result is written to the booking's row: a redelivery
/// or a crash resumes from the offset Vimeo reports and never uploads twice (Vimeo has no idempotency key, so an upload
/// takes a lease on the row, and a lease found expired without a video id is followed by a look-up of the booking
/// reference). A failed attempt is retried with a fresh download token; when <see cref="VimeoOptions.MaxUploadAttempts"/>
/// are spent the booking ends <c>UploadFailed</c> (see <see cref="RecordingFailures"/>).
/// </summary>
public sealed class RecordingArchiver(
    StorageAccount storage,
    BookingRows rows,
    VimeoClient vimeo,
    VimeoTusClient tus,
    VimeoScopeCheck scopes,
    ZoomRecordingsClient zoomRecordings,
    ZoomRecordingDownloader downloader,
    VimeoFolders folders,
    RecordingReferences references,
    RecordingDisclosures disclosures,
    RecordingFailures failures,
    ErasureFollowUps erasureFollowUps,
    IOptions<VimeoOptions> options,
    TimeProvider time,
    ILogger<RecordingArchiver> logger)
{
    private static readonly string[] FreshTokenFields = ["path:meetingId", "query:include_fields", "query:ttl"];
    private static readonly string[] ZoomDeleteFields = ["path:meetingId", "query:action"];
    private static readonly string[] FindVideoFields = ["query:query"];
    private static readonly string[] GetVideoFields = ["path:videoId"];
    private static readonly string[] UploadBytesFields = ["content:recording"];
    private static readonly string[] DeleteVideoFields = ["path:videoId"];
    private static readonly string[] DomainFields = ["path:videoId", "path:domain"];
    private static readonly string[] MoveFields = ["path:projectId", "path:videoId"];

    public async Task<RecordingResult> ArchiveAsync(ZoomEventMessage recording, string correlationId, CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var booking = await FindBookingAsync(recording.MeetingId, cancellationToken);
        if (booking is null || recording.MeetingKey is null)
        {
            logger.LogInformation("Recording of Zoom meeting {MeetingId} belongs to no booking; left alone", recording.MeetingId);
            return new RecordingResult(RecordingOutcome.NoBooking);
        }

        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["CorrelationId"] = correlationId, ["BookingId"] = booking.BookingId });
        return (await new ConvergeLoop(rows).RunAsync(booking, new ArchiveRun(this, recording, correlationId), cancellationToken)).Result;
    }

    private enum ArchiveStep
    {
        /// <summary>A later recording instance of a lesson already archived: only Zoom's copy goes.</summary>
        DeleteLaterInstance,
        /// <summary>Nothing may be uploaded: any half-uploaded video and Zoom's copy go.</summary>
        Discard,
        /// <summary>Upload (claimed by the upload lease), then finish.</summary>
        Upload,
        /// <summary>The upload is complete: embed domains, folder and Zoom's copy, whichever is still to do.</summary>
        Finish,
    }

    /// <summary>
    /// One <c>recording.completed</c> of one booking, plugged into <see cref="ConvergeLoop"/>. Its act records each step's
    /// fact as it goes (an upload is long, and a crash must resume from the last step), so it hands the loop no facts.
    /// </summary>
    private sealed class ArchiveRun(RecordingArchiver archiver, ZoomEventMessage recording, string correlationId) : IProviderConverger<ArchiveStep, RecordingResult>
    {
        public RecordingResult NoBooking { get; } = new(RecordingOutcome.NoBooking);

        public bool ReadsAgainWhenRowMoved => false;

        // Its act writes these markers with its own step facts (an upload is long), and sends them itself.
        public IReadOnlyList<SiteNotificationType> Notifies { get; } = [SiteNotificationTypes.RecordingAvailable, SiteNotificationTypes.RecordingUploadFailed];

        public Task<ConvergePlan<ArchiveStep, RecordingResult>> PlanAsync(BookingSnapshot booking, CancellationToken cancellationToken) =>
            archiver.PlanAsync(new Pending(booking.Row, recording, correlationId), cancellationToken);

        public async Task<ConvergeAct<RecordingResult>> ActAsync(BookingSnapshot booking, ArchiveStep plan, CancellationToken cancellationToken) =>
            new(await archiver.ActAsync(new Pending(booking.Row, recording, correlationId), plan, cancellationToken));
    }

    /// <summary>One decision on one read of the row: what Vimeo and Zoom must be told (the upload claimed by its lease first), or nothing.</summary>
    private async Task<ConvergePlan<ArchiveStep, RecordingResult>> PlanAsync(Pending p, CancellationToken cancellationToken)
    {
        var facts = RecordingColumns.Read(p.Row);
        var bookingId = p.Row.RowKey;
        var handled = RecordingColumns.DeletedInstances(p.Row);
        if (facts.ZoomRecordingDeletedAtUtc is not null && handled.Count > 0 && !handled.Contains(p.Recording.MeetingKey!, StringComparer.Ordinal))
        {
            return Act(ArchiveStep.DeleteLaterInstance);
        }

        if (facts.Disposition == RecordingColumns.UploadFailed)
        {
            // A stated end: a redelivery changes nothing (an operator resets the row to try again).
            return Nothing(new RecordingResult(RecordingOutcome.UploadFailed, bookingId, facts.VideoId));
        }

        if (facts.UploadCompleted)
        {
            var finishing = (facts.VideoId is not null && facts.HasLiveVideo && (!facts.EmbedDomainsAllowed || facts.FolderId is null)) || facts.ZoomRecordingDeletedAtUtc is null;
            return finishing ? Act(ArchiveStep.Finish) : Nothing(new RecordingResult(RecordingOutcome.AlreadyDone, bookingId, facts.VideoId));
        }

        if (!MayArchive(p.Row, facts))
        {
            return Act(ArchiveStep.Discard);
        }

        var now = time.GetUtcNow();
        if (facts.UploadLeaseUntilUtc is { } lease && lease > now)
        {
            return Nothing(new RecordingResult(RecordingOutcome.Deferred, bookingId, facts.VideoId, RetryAtUtc: lease));
        }

        // Before the lease: a token lacking a scope would fail half-way, after bytes were sent.
        await scopes.EnsureAsync(cancellationToken);
        return Act(ArchiveStep.Upload, RecordingColumns.Lease(p.Row, now + options.Value.UploadLease));
    }

    private static ConvergePlan<ArchiveStep, RecordingResult> Nothing(RecordingResult result) => ConvergePlan.Nothing<ArchiveStep, RecordingResult>(result);

    private static ConvergePlan<ArchiveStep, RecordingResult> Act(ArchiveStep step, TableEntity? claim = null) => ConvergePlan.Act<ArchiveStep, RecordingResult>(step, claim);

    private async Task<RecordingResult> ActAsync(Pending p, ArchiveStep step, CancellationToken cancellationToken)
    {
        var facts = RecordingColumns.Read(p.Row);
        var bookingId = p.Row.RowKey;
        if (step == ArchiveStep.DeleteLaterInstance)
        {
            // A meeting stopped and restarted makes a second recording instance: the lesson keeps its first archive,
            // and no copy of the later one may stay in Zoom's cloud.
            await DeleteZoomCopyAsync(p, null, cancellationToken);
            logger.LogInformation("A later recording instance of booking {BookingId} was deleted from Zoom; the lesson keeps its first", bookingId);
            return new RecordingResult(RecordingOutcome.Discarded, bookingId, facts.VideoId);
        }

        var videoId = facts.VideoId;
        if (step == ArchiveStep.Discard)
        {
            if (videoId is not null && !facts.VideoDeleted)
            {
                // Consent withdrawn (or the booking cancelled or erased) while the upload was unfinished: its half goes too.
                await AbandonVideoAsync(p, videoId, exists: true, cancellationToken);
            }

            return await DiscardAsync(p, facts, RecordingOutcome.Discarded, cancellationToken);
        }

        var acted = false;
        if (step == ArchiveStep.Upload)
        {
            var uploaded = await UploadWithRetriesAsync(p, facts, cancellationToken);
            if (uploaded.Outcome is not null)
            {
                return uploaded.Outcome == RecordingOutcome.NoVideoFile
                    ? await DiscardAsync(p, facts, RecordingOutcome.NoVideoFile, cancellationToken)
                    : new RecordingResult(uploaded.Outcome.Value, bookingId, uploaded.VideoId, uploaded.RetryAtUtc);
            }

            videoId = uploaded.VideoId!;
            acted = true;
        }

        if (videoId is not null && (facts.HasLiveVideo || acted))
        {
            if (!facts.EmbedDomainsAllowed || facts.FolderId is null)
            {
                // After a 403 (a scope lost since the check) the check asks Vimeo again: a token still lacking one waits here.
                await scopes.EnsureAsync(cancellationToken);
            }

            if (!facts.EmbedDomainsAllowed)
            {
                foreach (var domain in options.Value.EmbedDomains)
                {
                    await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.VimeoLessonRecording, "update", p.Parties, DomainFields, videoId, p.CorrelationId,
                        context => vimeo.AllowEmbedDomainAsync(videoId, domain, context, cancellationToken), cancellationToken);
                }

                await rows.WriteUnguardedAsync(RecordingColumns.DomainsAllowed(p.Row), cancellationToken);
                acted = true;
            }

            if (facts.FolderId is null)
            {
                var folderId = await folders.ResolveAsync(p.Parties, p.CorrelationId, cancellationToken);
                await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.VimeoLessonRecording, "update", p.Parties, MoveFields, videoId, p.CorrelationId,
                    context => vimeo.MoveToFolderAsync(folderId, videoId, context, cancellationToken), cancellationToken);
                await rows.WriteUnguardedAsync(RecordingColumns.InFolder(p.Row, folderId), cancellationToken);
                acted = true;
            }
        }

        if (facts.ZoomRecordingDeletedAtUtc is null)
        {
            // Only now: Vimeo reported the upload complete, so Zoom's copy is no longer the only one.
            var available = videoId is null ? null : SiteOutboxMarker.RecordingAvailable(p.Row.GetInt64(BookingRow.Version) ?? 0, videoId, options.Value.EmbedDomains, p.CorrelationId);
            await DeleteZoomCopyAsync(p, RecordingColumns.Archived, cancellationToken, available);
            acted = true;
        }

        if (acted)
        {
            logger.LogInformation("Recording of booking {BookingId} archived as Vimeo video {VideoId}; Zoom's copy deleted", bookingId, videoId);
        }

        return new RecordingResult(acted ? RecordingOutcome.Archived : RecordingOutcome.AlreadyDone, bookingId, videoId);
    }

    /// <summary>
    /// Retries the deletes at Zoom of recordings finished after an erasure that failed (the nightly retention sweep):
    /// the webhook's message may have ended in poison, which keeps no meeting id, so the row holds the instances.
    /// Returns how many were deleted now and how many stay pending (each with its reason on the erasure's receipt).
    /// </summary>
    public async Task<(int Deleted, int Pending)> RetryLateDeletesAsync(string correlationId, CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        // A row without the column compares false, so only rows with a pending instance are read.
        var filter = $"{RecordingColumns.ZoomLateDeletesPending} gt ''";
        var (deleted, pending) = (0, 0);
        await foreach (var row in rows.QueryAsync(filter, cancellationToken: cancellationToken))
        {
            var meetingId = long.TryParse(row.GetString(MeetingColumns.MeetingId), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : (long?)null;
            foreach (var instance in RecordingColumns.LateDeletesPending(row))
            {
                try
                {
                    // The same path as the webhook: the booking reads as erased, so the recording is only deleted.
                    await ArchiveAsync(new ZoomEventMessage(ZoomEventMessage.RecordingCompleted, null, meetingId, instance, null, null, null), correlationId, cancellationToken);
                    deleted++;
                }
                catch (Exception ex) when (IsAttemptFailure(ex) && !cancellationToken.IsCancellationRequested)
                {
                    pending++;
                }
            }
        }

        logger.LogInformation("Late recordings of erased members: {Deleted} deleted at Zoom, {Pending} still pending", deleted, pending);
        return (deleted, pending);
    }

    private sealed record UploadResult(string? VideoId, RecordingOutcome? Outcome = null, DateTimeOffset? RetryAtUtc = null);

    /// <summary>
    /// Attempts the upload until Vimeo reports it complete or the attempts are spent. Each attempt is counted on the row
    /// before it starts, so a process that crashes mid-upload still uses one up and a crash loop ends.
    /// </summary>
    private async Task<UploadResult> UploadWithRetriesAsync(Pending p, RecordingFacts facts, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var videoId = facts.VideoId;
        var attempts = facts.UploadAttempts;
        // Only an expired lease without a video id can hide a video Vimeo made before a crash.
        var mayHaveOrphan = facts.UploadLeaseUntilUtc is not null && videoId is null;
        var useWebhookToken = true;
        if (videoId is not null && await GetVideoAsync(p, videoId, cancellationToken) is { UploadComplete: true, UploadFailed: false } uploaded)
        {
            if (uploaded.Playable)
            {
                // Every byte arrived and was transcoded before the last run stopped (or Vimeo has just finished): nothing to download again.
                await rows.WriteUnguardedAsync(RecordingColumns.UploadDone(p.Row), cancellationToken);
                return new UploadResult(videoId);
            }

            var madeAt = p.Row.GetDateTimeOffset(RecordingColumns.UploadedAtUtc) ?? time.GetUtcNow();
            if (time.GetUtcNow() - madeAt < settings.TranscodeTimeout)
            {
                // Still transcoding: waiting costs no attempt, and is bounded by the transcode timeout.
                return await WaitForVimeoAsync(p, videoId, cancellationToken);
            }

            // Vimeo never finished transcoding: that video goes, and a fresh upload takes its place.
            logger.LogWarning("Vimeo video {VideoId} of booking {BookingId} was still transcoding after {Timeout}; uploading afresh", videoId, p.Row.RowKey, settings.TranscodeTimeout);
            await AbandonVideoAsync(p, videoId, exists: true, cancellationToken);
            videoId = null;
        }

        while (attempts < settings.MaxUploadAttempts)
        {
            attempts++;
            await rows.WriteUnguardedAsync(RecordingColumns.AttemptStarted(p.Row, attempts, time.GetUtcNow() + settings.UploadLease), cancellationToken);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(settings.UploadAttemptTimeout);
            try
            {
                if (mayHaveOrphan && await FindUploadedAsync(p, cancellationToken) is { } adopted)
                {
                    logger.LogWarning("Interrupted upload for booking {BookingId}: adopted Vimeo video {VideoId} found by its reference", p.Row.RowKey, adopted.Id);
                    videoId = adopted.Id!;
                    await rows.WriteUnguardedAsync(RecordingColumns.VideoCreated(p.Row, videoId, time.GetUtcNow()), cancellationToken);
                }

                mayHaveOrphan = false;
                var result = await AttemptAsync(p, videoId, useWebhookToken, attempt.Token);
                videoId = result.VideoId;
                if (result.Outcome is not null || videoId is not null)
                {
                    return result;
                }
            }
            catch (VimeoApiException ex) when (ex.Status == HttpStatusCode.Forbidden)
            {
                // A token lacking a scope fails every attempt alike: this one is given back while the handler waits for a token.
                await rows.WriteUnguardedAsync(RecordingColumns.AttemptGivenBack(p.Row, attempts - 1), cancellationToken);
                throw;
            }
            catch (Exception ex) when (IsAttemptFailure(ex) && !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Upload attempt {Attempt} of {MaxAttempts} for booking {BookingId} failed ({Error}); {Next}",
                    attempts, settings.MaxUploadAttempts, p.Row.RowKey, Describe(ex), attempts < settings.MaxUploadAttempts ? "retrying with a fresh download token" : "giving up");
            }

            // Whatever failed, the next download starts with a token Zoom has just issued.
            useWebhookToken = false;
            videoId = await rows.ReadAsync(p.Row.PartitionKey, p.Row.RowKey, cancellationToken) is { } current ? RecordingColumns.Read(current.Row).VideoId : null;
        }

        if (videoId is not null)
        {
            // A half-uploaded video is no use to anyone: it goes, so only Zoom's complete copy remains.
            await AbandonVideoAsync(p, videoId, exists: true, cancellationToken);
        }

        await failures.RecordAsync(rows, p.Row, attempts, p.CorrelationId, cancellationToken);
        return new UploadResult(null, RecordingOutcome.UploadFailed);
    }

    /// <summary>
    /// One attempt: open the download, make the video if there is none yet, ask Vimeo how many bytes it holds, skip
    /// those in the download and send the rest in chunks. Returns the video id once Vimeo reports the upload complete,
    /// an outcome when there is nothing to upload or Vimeo needs time, and (null, null) when Vimeo ended the upload
    /// in error (the video was deleted: the next attempt starts over).
    /// </summary>
    private async Task<UploadResult> AttemptAsync(Pending p, string? videoId, bool useWebhookToken, CancellationToken cancellationToken)
    {
        if (await DownloadSourceAsync(p, useWebhookToken, cancellationToken) is not { } source)
        {
            return new UploadResult(null, RecordingOutcome.NoVideoFile);
        }

        await using var download = await downloader.OpenAsync(source.Url, source.Token, cancellationToken);
        if (videoId is null)
        {
            var upload = VimeoTusUpload.For(download.Length, references.ForBooking(p.Row.RowKey));
            var created = await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.VimeoLessonRecording, "create", p.Parties, VimeoTusUpload.FieldNames, null, p.CorrelationId,
                context => vimeo.CreateTusUploadAsync(upload, context, cancellationToken), item => item.Id, cancellationToken);
            videoId = created.Id!;
            await rows.WriteUnguardedAsync(RecordingColumns.VideoCreated(p.Row, videoId, time.GetUtcNow()), cancellationToken);
            logger.LogInformation("Vimeo tus upload of booking {BookingId} created as video {VideoId} ({Bytes} bytes)", p.Row.RowKey, videoId, download.Length);
        }

        var video = await GetVideoAsync(p, videoId, cancellationToken);
        if (video is null || video.UploadFailed)
        {
            // Deleted behind our back, or Vimeo gave up on it: a new video on the next attempt.
            await AbandonVideoAsync(p, videoId, video is not null, cancellationToken);
            throw new VimeoApiException("upload", HttpStatusCode.UnprocessableEntity, null);
        }

        if (!video.UploadComplete)
        {
            if (video.Upload?.UploadLink is not { Length: > 0 } link || !Uri.TryCreate(link, UriKind.Absolute, out var uploadLink))
            {
                throw new VimeoApiException("upload link", HttpStatusCode.UnprocessableEntity, null);
            }

            var sent = await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.VimeoLessonRecording, "upload", p.Parties, UploadBytesFields, videoId, p.CorrelationId,
                _ => SendBytesAsync(p, uploadLink, download, cancellationToken), _ => videoId, cancellationToken);
            logger.LogInformation("Sent {Bytes} bytes of booking {BookingId}'s recording to Vimeo video {VideoId}", sent, p.Row.RowKey, videoId);
            video = await GetVideoAsync(p, videoId, cancellationToken);
        }

        if (video is null || video.UploadFailed)
        {
            // Vimeo ended the upload or its transcoding in error after the bytes went: this attempt failed, Zoom's copy stays.
            await AbandonVideoAsync(p, videoId, video is not null, cancellationToken);
            throw new VimeoApiException("upload processing", HttpStatusCode.UnprocessableEntity, null);
        }

        if (!video.Playable)
        {
            return await WaitForVimeoAsync(p, videoId, cancellationToken);
        }

        await rows.WriteUnguardedAsync(RecordingColumns.UploadDone(p.Row), cancellationToken);
        return new UploadResult(videoId);
    }

    /// <summary>Every byte is there but Vimeo does not yet report the upload and its transcoding complete: Zoom's copy waits, and so does the booking.</summary>
    private async Task<UploadResult> WaitForVimeoAsync(Pending p, string videoId, CancellationToken cancellationToken)
    {
        var retryAt = time.GetUtcNow() + options.Value.UploadCheckInterval;
        await rows.WriteUnguardedAsync(RecordingColumns.LeaseReleased(p.Row), cancellationToken);
        logger.LogInformation("Vimeo does not yet report video {VideoId} of booking {BookingId} uploaded and transcoded; looking again at {RetryAtUtc:O}", videoId, p.Row.RowKey, retryAt);
        return new UploadResult(videoId, RecordingOutcome.Deferred, retryAt);
    }

    /// <summary>
    /// Streams the download into the upload link: the bytes Vimeo already holds (HEAD) are read and dropped, then each
    /// chunk of <see cref="VimeoOptions.UploadChunkBytes"/> goes at the offset Vimeo last reported, read from the
    /// download as the PATCH sends it, so no chunk is ever held in memory.
    /// </summary>
    private async Task<long> SendBytesAsync(Pending p, Uri uploadLink, ZoomRecordingStream download, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var offset = await tus.OffsetAsync(uploadLink, cancellationToken);
        var sent = 0L;
        var leaseRenewedAt = time.GetUtcNow();
        await new DownloadSliceStream(download.Content, offset).CopyToAsync(Stream.Null, cancellationToken);
        while (offset < download.Length)
        {
            var chunk = new DownloadSliceStream(download.Content, Math.Min(settings.UploadChunkBytes, download.Length - offset));
            var reported = await tus.AppendAsync(uploadLink, offset, chunk, cancellationToken);
            sent += reported - offset;
            offset = reported;
            if (time.GetUtcNow() - leaseRenewedAt > settings.UploadLease / 2)
            {
                // Still working: keep other instances off the booking.
                leaseRenewedAt = time.GetUtcNow();
                await rows.WriteUnguardedAsync(RecordingColumns.Lease(p.Row, leaseRenewedAt + settings.UploadLease), cancellationToken);
            }
        }

        return sent;
    }

    private Task<VimeoItem?> GetVideoAsync(Pending p, string videoId, CancellationToken cancellationToken) =>
        disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.VimeoLessonRecording, "look-up", p.Parties, GetVideoFields, videoId, p.CorrelationId,
            context => vimeo.GetVideoAsync(videoId, context, cancellationToken), _ => videoId, cancellationToken);

    private async Task AbandonVideoAsync(Pending p, string videoId, bool exists, CancellationToken cancellationToken)
    {
        if (exists)
        {
            await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.VimeoLessonRecording, "delete", p.Parties, DeleteVideoFields, videoId, p.CorrelationId,
                context => vimeo.DeleteVideoAsync(videoId, context, cancellationToken), _ => videoId, cancellationToken);
        }

        await rows.WriteUnguardedAsync(RecordingColumns.VideoAbandoned(p.Row), cancellationToken);
    }

    // A 403 is Vimeo refusing the token (a missing scope): another attempt cannot help, so it goes to the handler.
    private static bool IsAttemptFailure(Exception ex) =>
        ex is HttpRequestException or IOException or OperationCanceledException or ZoomDownloadException or VimeoUploadOffsetException
            or VimeoApiException { Status: not HttpStatusCode.Forbidden } or ZoomApiException;

    /// <summary>The failure's kind and status for the log; never its message, which could quote a link.</summary>
    private static string Describe(Exception ex) => ex switch
    {
        ZoomDownloadException z => $"Zoom download, HTTP {(z.Status is { } s ? (int)s : 0)}",
        VimeoApiException v => $"Vimeo {v.Operation}, HTTP {(int)v.Status}",
        ZoomApiException z => $"Zoom {z.Operation}, HTTP {(int)z.Status}",
        VimeoUploadOffsetException => "Vimeo offset conflict",
        OperationCanceledException => "attempt timed out",
        _ => ex.GetType().Name,
    };

    /// <summary>Both parties consented, the booking stands, and neither party has asked for erasure.</summary>
    private static bool MayArchive(TableEntity row, RecordingFacts facts)
    {
        var desired = BookingRow.ToDesiredState(row);
        return desired.RecordingConsent.Both && desired.Status != BookingStatus.Cancelled && facts.WithdrawnAtUtc is null;
    }

    private async Task<RecordingResult> DiscardAsync(Pending p, RecordingFacts facts, RecordingOutcome outcome, CancellationToken cancellationToken)
    {
        // Done only for this very instance: an erasure deletes the meeting's recordings before Zoom may have finished one.
        if (facts.ZoomRecordingDeletedAtUtc is not null && RecordingColumns.DeletedInstances(p.Row).Contains(p.Recording.MeetingKey!, StringComparer.Ordinal))
        {
            return new RecordingResult(RecordingOutcome.AlreadyDone, p.Row.RowKey);
        }

        await DeleteZoomCopyAsync(p, RecordingColumns.Discarded, cancellationToken);
        await rows.WriteUnguardedAsync(RecordingColumns.LeaseReleased(p.Row), cancellationToken);
        logger.LogInformation("Recording of booking {BookingId} not uploaded ({Outcome}); Zoom's copy deleted", p.Row.RowKey, outcome);
        return new RecordingResult(outcome, p.Row.RowKey);
    }

    private async Task DeleteZoomCopyAsync(Pending p, string? disposition, CancellationToken cancellationToken, SiteOutboxMarker? notify = null)
    {
        var meeting = p.Recording.MeetingKey!;
        // A student erased before Zoom finished: the delete is the erasure's follow-up, on their chain and receipt.
        var erased = p.Row.GetDateTimeOffset(BookingRow.ErasedAtUtc) is not null ? p.Parties.ErasedStudent : null;
        bool existed;
        try
        {
            existed = await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.ZoomRecordingCleanup, RecordingDisclosures.ErasureFollowUpOperation, p.Parties, ZoomDeleteFields,
                p.Recording.MeetingId?.ToString(System.Globalization.CultureInfo.InvariantCulture), p.CorrelationId,
                context => zoomRecordings.DeleteRecordingAsync(meeting, context, cancellationToken), _ => null, cancellationToken);
        }
        catch (Exception ex) when (erased is not null && IsAttemptFailure(ex) && !cancellationToken.IsCancellationRequested)
        {
            await rows.WriteUnguardedAsync(RecordingColumns.LateDeletePending(p.Row, meeting), CancellationToken.None);
            await erasureFollowUps.LateRecordingPendingAsync(erased, p.Row.RowKey, Describe(ex), CancellationToken.None);
            throw;
        }

        var deleted = RecordingColumns.ZoomCopyDeleted(p.Row, time.GetUtcNow(), disposition, p.Recording.MeetingKey);
        if (notify is null)
        {
            await rows.WriteUnguardedAsync(deleted, cancellationToken);
        }
        else
        {
            // The archive's last fact and the site's notice of it land in one write; the notice is sent after.
            await rows.Outbox.WriteAndSendAsync(p.Row, deleted, [notify], cancellationToken);
        }

        if (erased is not null)
        {
            await erasureFollowUps.LateRecordingDeletedAsync(erased, p.Row.RowKey, existed, cancellationToken);
        }
    }

    private sealed record DownloadSource(Uri Url, string Token);

    /// <summary>
    /// Where to download the video file and with which token: the webhook's own while it has
    /// <see cref="VimeoOptions.DownloadTokenMinimumValidity"/> left on a first attempt, else a fresh
    /// <c>download_access_token</c> from Zoom. Null when the recording has no video file.
    /// </summary>
    private async Task<DownloadSource?> DownloadSourceAsync(Pending p, bool useWebhookToken, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var recording = p.Recording;
        var expiresAt = recording.SentAtUtc + ZoomRecordingsClient.WebhookDownloadTokenLifetime;
        if (useWebhookToken && recording.DownloadToken is { Length: > 0 } token && expiresAt - time.GetUtcNow() >= settings.DownloadTokenMinimumValidity
            && RecordingFileChoice.VideoDownloadUrl((recording.RecordingFiles ?? []).Select(f => (f.FileType, f.RecordingType, f.DownloadUrl))) is { } url
            && Uri.TryCreate(url, UriKind.Absolute, out var webhookUrl))
        {
            return new DownloadSource(webhookUrl, token);
        }

        logger.LogInformation("Asking Zoom for a fresh download token for booking {BookingId}", p.Row.RowKey);
        var fresh = await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.ZoomRecordingCleanup, "look-up", p.Parties, FreshTokenFields, recording.MeetingId?.ToString(System.Globalization.CultureInfo.InvariantCulture), p.CorrelationId,
            context => zoomRecordings.GetDownloadAsync(recording.MeetingKey!, settings.FreshDownloadTokenLifetime, context, cancellationToken), _ => null, cancellationToken);
        return fresh is { DownloadAccessToken.Length: > 0 }
            && RecordingFileChoice.VideoDownloadUrl((fresh.Files ?? []).Select(f => (f.FileType, f.RecordingType, f.DownloadUrl))) is { } freshUrl
            && Uri.TryCreate(freshUrl, UriKind.Absolute, out var freshUri)
            ? new DownloadSource(freshUri, fresh.DownloadAccessToken)
            : null;
    }

    private async Task<VimeoItem?> FindUploadedAsync(Pending p, CancellationToken cancellationToken)
    {
        var reference = references.ForBooking(p.Row.RowKey);
        var found = await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.VimeoLessonRecording, "look-up", p.Parties, FindVideoFields, null, p.CorrelationId,
            context => vimeo.FindVideosAsync(reference, context, cancellationToken), items => items.Count > 0 ? items[0].Id : null, cancellationToken);
        return found.FirstOrDefault(v => !v.UploadFailed);
    }

    /// <summary>The booking whose Zoom meeting this is (the meeting converger wrote its id on the row).</summary>
    private async Task<BookingSnapshot?> FindBookingAsync(long? meetingId, CancellationToken cancellationToken) =>
        meetingId is { } id
            ? await rows.FindAsync(TableClient.CreateQueryFilter($"ZoomMeetingId eq {id.ToString(System.Globalization.CultureInfo.InvariantCulture)}"), cancellationToken)
            : null;

    private sealed record Pending(TableEntity Row, ZoomEventMessage Recording, string CorrelationId)
    {
        public RecordingParties Parties => RecordingColumns.Parties(Row);
    }
}
