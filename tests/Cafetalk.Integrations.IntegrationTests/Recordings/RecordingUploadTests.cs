using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Recordings;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Contracts;
using Cafetalk.Integrations.Sandbox.Vimeo;
using Cafetalk.Integrations.Sandbox.Zoom;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Vimeo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Cafetalk.Integrations.IntegrationTests.Recordings;

/// <summary>
/// The recording path held to Zoom's and Vimeo's published contracts (issue 15): the download token only in the
/// Authorization header, the tus upload resumed from Vimeo's offset, retries with fresh tokens and a stated end,
/// folders found by paging, scopes checked, undeclared query parameters refused.
/// </summary>
public sealed class RecordingUploadTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private readonly CapturedLogs _logs = new();
    private ServiceProvider _services = null!;
    private RecordingScenario _scenario = null!;

    private ZoomSimulator Zoom => fixture.Sandbox.Zoom;

    private VimeoSimulator Vimeo => fixture.Sandbox.Vimeo;

    public async Task InitializeAsync()
    {
        _services = RecordingScenario.Services(fixture, _logs);
        _scenario = new RecordingScenario(fixture, _services);
        await fixture.Storage.EnsureProvisionedAsync();
    }

    public async Task DisposeAsync()
    {
        Zoom.FailDownloadsAfter(0, 0);
        Vimeo.TokenScopes = VimeoSimulator.AllScopes;
        Vimeo.UploadOutcome = VimeoProcessingOutcome.Complete;
        Vimeo.TranscodeOutcome = VimeoProcessingOutcome.Complete;
        Vimeo.ProcessingDelay = TimeSpan.Zero;
        await _services.DisposeAsync();
    }

    private (string Lecturer, string Student, string Booking) NewParties() =>
        (RecordingScenario.NewId("lec"), RecordingScenario.NewId("stu"), RecordingScenario.NewId("bk"));

    private void ClearRequests()
    {
        Zoom.ClearRequests();
        Vimeo.ClearRequests();
    }

    private List<RecordedZoomRequest> ZoomRecordingCalls() => [.. Zoom.Requests.Where(r => r.Path.EndsWith("/recordings", StringComparison.Ordinal))];

    /// <summary>The violations this class's requests made on purpose; any other stays recorded for the suite's scan.</summary>
    private List<Cafetalk.Integrations.Sandbox.Contracts.ContractViolation> TakeDeliberateViolations(Func<Cafetalk.Integrations.Sandbox.Contracts.ContractViolation, bool> deliberate)
    {
        var taken = Cafetalk.Integrations.Sandbox.Contracts.ContractViolations.TakeFrom(Vimeo.BaseAddress);
        Cafetalk.Integrations.Sandbox.Contracts.ContractViolations.Record(Vimeo.BaseAddress, taken.Where(v => !deliberate(v)));
        return [.. taken.Where(deliberate)];
    }

    private HttpClient VimeoApi()
    {
        var http = new HttpClient { BaseAddress = Vimeo.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Vimeo.AccessToken);
        return http;
    }

    [Fact]
    public async Task ZoomDownload_TokenOnlyInTheAuthorizationHeader_AURLTokenIsRefusedWithCode124()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var message = _scenario.RecordingCompleted(meetingId);
        var token = JsonDocument.Parse(message).RootElement.GetProperty("downloadToken").GetString()!;
        var url = JsonDocument.Parse(message).RootElement.GetProperty("recordingFiles")[1].GetProperty("downloadUrl").GetString()!;

        // Zoom's rule since 2023-02-14: the very token that works in the header is refused in the URL.
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var inQuery = await http.GetAsync(new Uri($"{url}?access_token={token}"));
        var refused = ContractViolations.TakeFrom(Zoom.BaseAddress);
        Assert.Contains(refused, v => v.Problem.StartsWith("credential in query parameter 'access_token'", StringComparison.Ordinal));
        Assert.All(refused, v => Assert.True(ProviderContract.IsCredentialProblem(v), v.ToString()));
        Assert.Equal(HttpStatusCode.Unauthorized, inQuery.StatusCode);
        Assert.Equal(124, JsonDocument.Parse(await inQuery.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetInt32());
        ClearRequests();

        var result = await _scenario.HandleAsync(message);

        Assert.Equal(RecordingOutcome.Archived, result!.Outcome);
        var downloads = Zoom.Requests.Where(r => r.Path.StartsWith("/rec/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(downloads);
        Assert.All(downloads, r => Assert.DoesNotContain("token", r.Query, StringComparison.OrdinalIgnoreCase));
        Assert.Equal("Bearer", Assert.Single(downloads, r => r.Path.StartsWith("/rec/download/", StringComparison.Ordinal)).Headers["Authorization"]);
        Assert.DoesNotContain(Vimeo.Requests, r => (r.Query + r.Body).Contains(token, StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Lines, l => l.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Archive_SiteHearsTheVideoThroughTheOutbox_ThenACancelsDeleteTellsItRemoved_EachMarkerCleared()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);

        Assert.Equal(RecordingOutcome.Archived, (await _scenario.HandleAsync(_scenario.RecordingCompleted(meetingId)))!.Outcome);

        var archived = await _scenario.RowAsync(lecturer, booking);
        var available = Assert.Single(await NoticesAsync(booking), n => n.GetProperty("type").GetString() == SiteNotificationTypes.RecordingAvailable.Type).GetProperty("data");
        Assert.Equal(archived.GetString(RecordingColumns.VideoId), available.GetProperty("vimeoVideoId").GetString());
        Assert.NotEmpty(available.GetProperty("embedDomains").EnumerateArray());
        Assert.Equal(string.Empty, archived.GetString(SiteOutbox.ColumnOf(SiteNotificationTypes.RecordingAvailable)));

        // The booking cancelled after its lesson: the recording converger deletes the video and tells the site.
        await fixture.Storage.Table(TableNames.Bookings).UpdateEntityAsync(new Azure.Data.Tables.TableEntity(lecturer, booking) { ["Status"] = "Cancelled", ["Version"] = 2L }, Azure.ETag.All);
        Assert.True(await _services.GetRequiredService<RecordingDeleter>().ConvergeAsync(lecturer, booking, "corr-outbox"));

        var removed = Assert.Single(await NoticesAsync(booking), n => n.GetProperty("type").GetString() == SiteNotificationTypes.RecordingRemoved.Type).GetProperty("data");
        Assert.Equal(("cancelled", 2L), (removed.GetProperty("reason").GetString(), removed.GetProperty("bookingVersion").GetInt64()));
        Assert.Equal(string.Empty, (await _scenario.RowAsync(lecturer, booking)).GetString(SiteOutbox.ColumnOf(SiteNotificationTypes.RecordingRemoved)));
    }

    private async Task<List<JsonElement>> NoticesAsync(string bookingId) =>
        [.. (await fixture.Storage.Queue(QueueNames.SiteNotifications).PeekMessagesAsync(32)).Value
            .Select(m => JsonDocument.Parse(m.Body.ToString()).RootElement)
            .Where(e => e.GetProperty("subject").GetString() == bookingId)];

    [Fact]
    public async Task Upload_DownloadBreaksMidStream_RetriedWithAFreshToken_ResumingFromVimeosOffset()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var message = _scenario.RecordingCompleted(meetingId);
        var recording = Assert.Single(Zoom.Recordings, r => r.MeetingId == meetingId);
        // The first download breaks after one chunk and a half went through.
        Zoom.FailDownloadsAfter(RecordingScenario.ChunkBytes * 3 / 2, 1);
        ClearRequests();

        var result = await _scenario.HandleAsync(message);

        Assert.Equal(RecordingOutcome.Archived, result!.Outcome);
        var fresh = Assert.Single(ZoomRecordingCalls(), r => r.Method == "GET");
        Assert.Contains("include_fields=download_access_token", fresh.Query, StringComparison.Ordinal);
        var downloads = Zoom.Requests.Where(r => r.Path.StartsWith("/rec/download/", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, downloads.Count);
        Assert.True(downloads[0].ReceivedAtUtc <= fresh.ReceivedAtUtc && fresh.ReceivedAtUtc <= downloads[1].ReceivedAtUtc);
        // The second attempt asked Vimeo where it stood and sent only what it lacked.
        Assert.Equal(2, Vimeo.Requests.Count(r => r.Method == "HEAD"));
        // Each PATCH starts where the bytes Vimeo holds end (tus keeps what a broken PATCH delivered, so where the break
        // falls inside a chunk decides the offsets): no gap, no byte sent twice, and never again from 0.
        var patches = Vimeo.Requests.Where(r => r.Method == "PATCH").ToList();
        var expectedOffset = 0L;
        foreach (var patch in patches)
        {
            Assert.Equal(expectedOffset, long.Parse(patch.Headers!["Upload-Offset"], CultureInfo.InvariantCulture));
            expectedOffset += patch.BodyBytes;
        }

        Assert.Equal(recording.Size, expectedOffset);
        Assert.Single(patches, p => p.Headers!["Upload-Offset"] == "0");
        var video = Assert.Single(Vimeo.Videos, v => v.Description == _scenario.BookingReference(booking));
        Assert.Equal(recording.Sha256(), video.ReceivedSha256);
        Assert.Single(Vimeo.Requests, r => r.Method == "POST" && r.Path == "/me/videos");
        Assert.Equal(2, (await _scenario.RowAsync(lecturer, booking)).GetInt32(RecordingColumns.UploadAttempts));
    }

    [Fact]
    public async Task Upload_AttemptsSpent_BookingEndsUploadFailed_SiteIsTold_ZoomCopyKept_NeverWedged()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var message = _scenario.RecordingCompleted(meetingId);
        Zoom.FailDownloadsAfter(RecordingScenario.ChunkBytes / 2, 10);
        ClearRequests();

        var result = await _scenario.HandleAsync(message, "msg-upload-fails");

        Assert.Equal(RecordingOutcome.UploadFailed, result!.Outcome);
        var row = await _scenario.RowAsync(lecturer, booking);
        Assert.Equal(("UploadFailed", 3), (row.GetString("RecordingDisposition"), row.GetInt32("VimeoUploadAttempts")));
        Assert.NotNull(row.GetDateTimeOffset("RecordingFailedAtUtc"));
        Assert.Null(row.GetDateTimeOffset("ZoomRecordingDeletedAtUtc"));
        // Zoom's copy is the only one: it stays, and no half video is left on Vimeo.
        Assert.Contains(Zoom.Recordings, r => r.MeetingId == meetingId);
        Assert.DoesNotContain(ZoomRecordingCalls(), r => r.Method == "DELETE");
        Assert.DoesNotContain(Vimeo.Videos, v => v.Description == _scenario.BookingReference(booking));
        Assert.Equal(2, ZoomRecordingCalls().Count(r => r.Method == "GET"));

        var notices = (await fixture.Storage.Queue(QueueNames.SiteNotifications).PeekMessagesAsync(32)).Value
            .Select(m => JsonDocument.Parse(m.Body.ToString()).RootElement)
            .Where(e => e.GetProperty("type").GetString() == SiteNotificationTypes.RecordingUploadFailed.Type && e.GetProperty("data").GetProperty("bookingId").GetString() == booking)
            .ToList();
        var notice = Assert.Single(notices);
        Assert.Equal((lecturer, "msg-upload-fails", "1.0"), (notice.GetProperty("data").GetProperty("lecturerId").GetString(), notice.GetProperty("data").GetProperty("correlationId").GetString(), notice.GetProperty("specversion").GetString()));
        Assert.Contains(_logs.Lines, l => l.Contains("could not be uploaded to Vimeo after 3 attempts", StringComparison.Ordinal));

        ClearRequests();
        var again = await _scenario.HandleAsync(message);
        Assert.Equal(RecordingOutcome.UploadFailed, again!.Outcome);
        Assert.Empty(Vimeo.Requests);
        Assert.Empty(Zoom.Requests);
    }

    [Fact]
    public async Task Upload_VimeoEndsTheUploadInErrorAfterTheLastByte_ThatVideoIsDeleted_AFreshUploadArchivesIt()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var message = _scenario.RecordingCompleted(meetingId);
        var recording = Assert.Single(Zoom.Recordings, r => r.MeetingId == meetingId);
        // The first video's upload ends in error once its bytes are in; videos made after that complete.
        Vimeo.UploadOutcome = VimeoProcessingOutcome.Error;
        Vimeo.AfterPatch = (_, offset) =>
        {
            if (offset >= recording.Size)
            {
                Vimeo.UploadOutcome = VimeoProcessingOutcome.Complete;
            }
        };
        ClearRequests();

        RecordingResult? result;
        try
        {
            result = await _scenario.HandleAsync(message);
        }
        finally
        {
            Vimeo.AfterPatch = null;
        }

        Assert.Equal(RecordingOutcome.Archived, result!.Outcome);
        var created = Vimeo.Requests.Where(r => r.Method == "POST" && r.Path == "/me/videos").ToList();
        Assert.Equal(2, created.Count);
        var failed = Assert.Single(Vimeo.Requests, r => r.Method == "DELETE" && r.Path.StartsWith("/videos/", StringComparison.Ordinal));
        var video = Assert.Single(Vimeo.Videos, v => v.Description == _scenario.BookingReference(booking));
        Assert.NotEqual("/videos/" + video.Id, failed.Path);
        Assert.Equal((recording.Sha256(), "complete", "complete"), (video.ReceivedSha256, video.UploadStatus, video.TranscodeStatus));
        // Zoom's copy went only after the second upload was complete.
        var zoomDelete = Assert.Single(ZoomRecordingCalls(), r => r.Method == "DELETE");
        Assert.True(zoomDelete.ReceivedAtUtc >= created[1].ReceivedAtUtc);
        Assert.Equal(2, (await _scenario.RowAsync(lecturer, booking)).GetInt32(RecordingColumns.UploadAttempts));
    }

    [Fact]
    public async Task Upload_TranscodingEndsInErrorEveryTime_BookingEndsUploadFailed_SiteIsTold_ZoomCopyKept()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var message = _scenario.RecordingCompleted(meetingId);
        Vimeo.TranscodeOutcome = VimeoProcessingOutcome.Error;
        ClearRequests();

        var result = await _scenario.HandleAsync(message, "msg-transcode-fails");

        Assert.Equal(RecordingOutcome.UploadFailed, result!.Outcome);
        var row = await _scenario.RowAsync(lecturer, booking);
        Assert.Equal(("UploadFailed", 3), (row.GetString("RecordingDisposition"), row.GetInt32("VimeoUploadAttempts")));
        Assert.Null(row.GetDateTimeOffset("ZoomRecordingDeletedAtUtc"));
        Assert.Contains(Zoom.Recordings, r => r.MeetingId == meetingId);
        Assert.DoesNotContain(ZoomRecordingCalls(), r => r.Method == "DELETE");
        // Three uploads, each deleted once Vimeo failed to transcode it.
        Assert.Equal(3, Vimeo.Requests.Count(r => r.Method == "POST" && r.Path == "/me/videos"));
        Assert.Equal(3, Vimeo.Requests.Count(r => r.Method == "DELETE" && r.Path.StartsWith("/videos/", StringComparison.Ordinal)));
        Assert.DoesNotContain(Vimeo.Videos, v => v.Description == _scenario.BookingReference(booking));
        var notices = (await fixture.Storage.Queue(QueueNames.SiteNotifications).PeekMessagesAsync(32)).Value
            .Select(m => JsonDocument.Parse(m.Body.ToString()).RootElement)
            .Where(e => e.GetProperty("type").GetString() == SiteNotificationTypes.RecordingUploadFailed.Type && e.GetProperty("data").GetProperty("bookingId").GetString() == booking);
        Assert.Equal("msg-transcode-fails", Assert.Single(notices).GetProperty("data").GetProperty("correlationId").GetString());

        ClearRequests();
        Assert.Equal(RecordingOutcome.UploadFailed, (await _scenario.HandleAsync(message))!.Outcome);
        Assert.Empty(Vimeo.Requests);
        Assert.Empty(Zoom.Requests);
    }

    [Fact]
    public async Task Upload_StillTranscoding_ZoomCopyKeptAndNoAttemptSpent_ArchivedOnceVimeoReportsItComplete()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var message = _scenario.RecordingCompleted(meetingId);
        Vimeo.ProcessingDelay = TimeSpan.FromMilliseconds(500);
        ClearRequests();

        var waiting = await _scenario.HandleAsync(message);

        Assert.Equal(RecordingOutcome.Deferred, waiting!.Outcome);
        Assert.Equal("in_progress", Assert.Single(Vimeo.Videos, v => v.Description == _scenario.BookingReference(booking)).TranscodeStatus);
        Assert.Contains(Zoom.Recordings, r => r.MeetingId == meetingId);
        Assert.DoesNotContain(ZoomRecordingCalls(), r => r.Method == "DELETE");

        await Task.Delay(TimeSpan.FromMilliseconds(600));
        ClearRequests();
        var done = await _scenario.HandleAsync(message);

        Assert.Equal(RecordingOutcome.Archived, done!.Outcome);
        Assert.DoesNotContain(Zoom.Requests, r => r.Path.StartsWith("/rec/", StringComparison.Ordinal));
        Assert.Single(ZoomRecordingCalls(), r => r.Method == "DELETE");
        Assert.Equal(1, (await _scenario.RowAsync(lecturer, booking)).GetInt32(RecordingColumns.UploadAttempts));
    }

    [Fact]
    public async Task Upload_StillTranscodingPastTheTimeout_ThatVideoIsDeleted_AFreshUploadArchivesIt()
    {
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var services = RecordingScenario.Services(fixture, _logs, time, o => o.TranscodeTimeout = TimeSpan.FromHours(2));
        var scenario = new RecordingScenario(fixture, services);
        var (lecturer, student, booking) = NewParties();
        var meetingId = await scenario.BookAsync(lecturer, student, booking);
        var message = scenario.RecordingCompleted(meetingId);
        var recording = Assert.Single(Zoom.Recordings, r => r.MeetingId == meetingId);
        // vimeo.contract.json processing-async: nothing bounds how long transcoding stays in_progress.
        Vimeo.TranscodeOutcome = VimeoProcessingOutcome.StaysInProgress;
        ClearRequests();

        Assert.Equal(RecordingOutcome.Deferred, (await scenario.HandleAsync(message))!.Outcome);
        var stuck = Assert.Single(Vimeo.Videos, v => v.Description == scenario.BookingReference(booking));
        Assert.Equal(("complete", "in_progress"), (stuck.UploadStatus, stuck.TranscodeStatus));

        // Within the timeout: one look at the video, nothing downloaded or uploaded again.
        time.Advance(TimeSpan.FromHours(1));
        ClearRequests();
        Assert.Equal(RecordingOutcome.Deferred, (await scenario.HandleAsync(message))!.Outcome);
        Assert.Equal([$"GET /videos/{stuck.Id}"], Vimeo.Requests.Select(r => $"{r.Method} {r.Path}"));
        Assert.Empty(Zoom.Requests);

        // Past it: the stuck video is deleted first (no copy of the lesson left behind), then a fresh download and upload.
        Vimeo.TranscodeOutcome = VimeoProcessingOutcome.Complete;
        time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1));
        ClearRequests();
        var done = await scenario.HandleAsync(message);

        Assert.Equal(RecordingOutcome.Archived, done!.Outcome);
        var calls = Vimeo.Requests.Select(r => $"{r.Method} {r.Path}").ToList();
        var deleted = calls.IndexOf($"DELETE /videos/{stuck.Id}");
        Assert.InRange(deleted, 0, calls.IndexOf("POST /me/videos") - 1);
        Assert.Single(calls, c => c == "POST /me/videos");
        Assert.Contains(Zoom.Requests, r => r.Path.StartsWith("/rec/", StringComparison.Ordinal));
        var fresh = Assert.Single(Vimeo.Videos, v => v.Description == scenario.BookingReference(booking));
        Assert.NotEqual(stuck.Id, fresh.Id);
        Assert.Equal((recording.Sha256(), "complete", "complete"), (fresh.ReceivedSha256, fresh.UploadStatus, fresh.TranscodeStatus));
        var zoomDelete = Assert.Single(ZoomRecordingCalls(), r => r.Method == "DELETE");
        Assert.True(zoomDelete.ReceivedAtUtc >= Vimeo.Requests.Single(r => r.Method == "POST" && r.Path == "/me/videos").ReceivedAtUtc);
        var row = await scenario.RowAsync(lecturer, booking);
        Assert.Equal(("Archived", fresh.Id, 2), (row.GetString(RecordingColumns.Disposition), row.GetString(RecordingColumns.VideoId), row.GetInt32(RecordingColumns.UploadAttempts)));
        Assert.Contains(await scenario.ChainAsync(student), e => e.Operation == "delete" && e.ProviderObjectId == stuck.Id && e.Outcome == Cafetalk.Integrations.Disclosure.DisclosureOutcome.Succeeded);
        Assert.Contains(_logs.Lines, l => l.Contains($"Vimeo video {stuck.Id} of booking {booking} was still transcoding after", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Upload_TranscodingNeverEnds_EachTimeoutUploadsAfresh_AttemptsSpent_BookingEndsUploadFailed_SiteIsTold()
    {
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var services = RecordingScenario.Services(fixture, _logs, time, o => (o.TranscodeTimeout, o.MaxUploadAttempts) = (TimeSpan.FromHours(1), 2));
        var scenario = new RecordingScenario(fixture, services);
        var (lecturer, student, booking) = NewParties();
        var meetingId = await scenario.BookAsync(lecturer, student, booking);
        var message = scenario.RecordingCompleted(meetingId);
        Vimeo.TranscodeOutcome = VimeoProcessingOutcome.StaysInProgress;
        ClearRequests();

        Assert.Equal(RecordingOutcome.Deferred, (await scenario.HandleAsync(message, "msg-transcode-stuck"))!.Outcome);
        time.Advance(TimeSpan.FromMinutes(61));
        Assert.Equal(RecordingOutcome.Deferred, (await scenario.HandleAsync(message, "msg-transcode-stuck"))!.Outcome);
        time.Advance(TimeSpan.FromMinutes(61));
        var result = await scenario.HandleAsync(message, "msg-transcode-stuck");

        Assert.Equal(RecordingOutcome.UploadFailed, result!.Outcome);
        // Two uploads, each deleted once it outlived the timeout: nothing of the lesson stays on Vimeo.
        var created = Vimeo.Requests.Count(r => r.Method == "POST" && r.Path == "/me/videos");
        var deletes = Vimeo.Requests.Where(r => r.Method == "DELETE" && r.Path.StartsWith("/videos/", StringComparison.Ordinal)).Select(r => r.Path).Distinct().Count();
        Assert.Equal((2, 2), (created, deletes));
        Assert.DoesNotContain(Vimeo.Videos, v => v.Description == scenario.BookingReference(booking));
        var row = await scenario.RowAsync(lecturer, booking);
        Assert.Equal(("UploadFailed", 2), (row.GetString(RecordingColumns.Disposition), row.GetInt32(RecordingColumns.UploadAttempts)));
        Assert.Equal(time.GetUtcNow(), row.GetDateTimeOffset(RecordingColumns.FailedAtUtc));
        // Zoom's copy is the only one left: it stays.
        Assert.Null(row.GetDateTimeOffset(RecordingColumns.ZoomRecordingDeletedAtUtc));
        Assert.Contains(Zoom.Recordings, r => r.MeetingId == meetingId);
        Assert.DoesNotContain(ZoomRecordingCalls(), r => r.Method == "DELETE");
        var notices = (await fixture.Storage.Queue(QueueNames.SiteNotifications).PeekMessagesAsync(32)).Value
            .Select(m => JsonDocument.Parse(m.Body.ToString()).RootElement)
            .Where(e => e.GetProperty("type").GetString() == SiteNotificationTypes.RecordingUploadFailed.Type && e.GetProperty("data").GetProperty("bookingId").GetString() == booking);
        Assert.Equal("msg-transcode-stuck", Assert.Single(notices).GetProperty("data").GetProperty("correlationId").GetString());

        ClearRequests();
        Assert.Equal(RecordingOutcome.UploadFailed, (await scenario.HandleAsync(message))!.Outcome);
        Assert.Empty(Vimeo.Requests);
        Assert.Empty(Zoom.Requests);
    }

    [Fact]
    public async Task Upload_ZoomCopyStaysUntilVimeoHasEveryByte()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var message = _scenario.RecordingCompleted(meetingId);
        using var crash = new CancellationTokenSource();
        bool? zoomCopyWhilePartial = null;
        Vimeo.AfterPatch = (_, offset) =>
        {
            if (offset >= RecordingScenario.ChunkBytes * 2)
            {
                zoomCopyWhilePartial = Zoom.Recordings.Any(r => r.MeetingId == meetingId);
                crash.Cancel();
            }
        };
        try
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _scenario.HandleAsync(message, cancellationToken: crash.Token));
        }
        finally
        {
            Vimeo.AfterPatch = null;
        }

        Assert.True(zoomCopyWhilePartial);
        Assert.Contains(Zoom.Recordings, r => r.MeetingId == meetingId);
        Assert.Equal("in_progress", Assert.Single(Vimeo.Videos, v => v.Description == _scenario.BookingReference(booking)).UploadStatus);
        Assert.Null((await _scenario.RowAsync(lecturer, booking)).GetDateTimeOffset("ZoomRecordingDeletedAtUtc"));
    }

    /// <summary>Runs the recording until Vimeo holds <paramref name="stopAtOffset"/> bytes, then stops the process there, as a crash would.</summary>
    private async Task CrashAtOffsetAsync(RecordingScenario scenario, string message, long stopAtOffset)
    {
        using var crash = new CancellationTokenSource();
        Vimeo.AfterPatch = (_, offset) =>
        {
            if (offset >= stopAtOffset)
            {
                crash.Cancel();
            }
        };
        try
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => scenario.HandleAsync(message, cancellationToken: crash.Token));
        }
        finally
        {
            Vimeo.AfterPatch = null;
        }
    }

    [Fact]
    public async Task Upload_CrashAfterTheLastChunk_NextRunSeesItCompleteWithoutDownloadingAgain()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var message = _scenario.RecordingCompleted(meetingId);
        var recording = Assert.Single(Zoom.Recordings, r => r.MeetingId == meetingId);
        await using var services = RecordingScenario.Services(fixture, _logs, configure: o => o.UploadLease = TimeSpan.FromMilliseconds(100));
        var scenario = new RecordingScenario(fixture, services);
        await CrashAtOffsetAsync(scenario, message, recording.Size);
        await Task.Delay(TimeSpan.FromMilliseconds(150));
        ClearRequests();

        var result = await scenario.HandleAsync(message);

        Assert.Equal(RecordingOutcome.Archived, result!.Outcome);
        Assert.DoesNotContain(Zoom.Requests, r => r.Path.StartsWith("/rec/", StringComparison.Ordinal));
        Assert.DoesNotContain(Vimeo.Requests, r => r.Path.StartsWith("/files/", StringComparison.Ordinal));
        Assert.Single(ZoomRecordingCalls(), r => r.Method == "DELETE");
        Assert.Equal(1, (await _scenario.RowAsync(lecturer, booking)).GetInt32(RecordingColumns.UploadAttempts));
    }

    [Fact]
    public async Task Upload_StudentErasedMidUpload_HalfVideoDeleted_ZoomCopyDeleted_NothingResumed()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var message = _scenario.RecordingCompleted(meetingId);
        await using var services = RecordingScenario.Services(fixture, _logs, configure: o => o.UploadLease = TimeSpan.FromMilliseconds(100));
        var scenario = new RecordingScenario(fixture, services);
        await CrashAtOffsetAsync(scenario, message, RecordingScenario.ChunkBytes);
        var videoId = (await _scenario.RowAsync(lecturer, booking)).GetString("VimeoVideoId");
        // The student's erasure marks the booking's recording withdrawn (RecordingDeleter does this before it deletes videos).
        await fixture.Storage.Table(TableNames.Bookings).UpdateEntityAsync(
            new Azure.Data.Tables.TableEntity(lecturer, booking) { ["RecordingWithdrawnAtUtc"] = TimeProvider.System.GetUtcNow() }, Azure.ETag.All, Azure.Data.Tables.TableUpdateMode.Merge);
        await Task.Delay(TimeSpan.FromMilliseconds(150));
        ClearRequests();

        var result = await scenario.HandleAsync(message);

        Assert.Equal(RecordingOutcome.Discarded, result!.Outcome);
        Assert.Equal([$"DELETE /videos/{videoId}"], Vimeo.Requests.Select(r => $"{r.Method} {r.Path}"));
        Assert.DoesNotContain(Vimeo.Videos, v => v.Id == videoId);
        Assert.DoesNotContain(Zoom.Requests, r => r.Path.StartsWith("/rec/", StringComparison.Ordinal));
        Assert.DoesNotContain(Zoom.Recordings, r => r.MeetingId == meetingId);
    }

    [Fact]
    public async Task Folder_OnThePageAfterAHundredOthers_FoundByPagingNotCreatedTwice()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var message = _scenario.RecordingCompleted(meetingId);
        // The account's other projects fill page 1; the lecturer's folder (made before our row was lost) is on page 2.
        Vimeo.AddFolders(Enumerable.Range(0, 120).Select(i => $"other-team-{i}").Append(_scenario.LecturerReference(lecturer)));
        var folder = Assert.Single(Vimeo.Folders, f => f.Name == _scenario.LecturerReference(lecturer));
        ClearRequests();

        var result = await _scenario.HandleAsync(message);

        Assert.Equal(RecordingOutcome.Archived, result!.Outcome);
        var listings = Vimeo.Requests.Where(r => r.Method == "GET" && r.Path == "/me/projects").ToList();
        Assert.Equal(["?page=1&per_page=100", "?page=2&per_page=100"], listings.Select(r => r.Query));
        Assert.All(listings, r => Assert.Equal(200, r.Status));
        Assert.DoesNotContain(Vimeo.Requests, r => r.Method == "POST" && r.Path == "/me/projects");
        Assert.Equal(folder.Id, Assert.Single(Vimeo.Videos, v => v.Description == _scenario.BookingReference(booking)).FolderId);
    }

    [Fact]
    public async Task Scopes_TokenWithoutInteract_DetectedAtStart_AndNoRecordingIsTouchedUntilReplaced()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var message = _scenario.RecordingCompleted(meetingId);
        Vimeo.TokenScopes = [.. VimeoSimulator.AllScopes.Where(s => s != "interact")];
        await using var services = RecordingScenario.Services(fixture, _logs);
        ClearRequests();

        await services.GetServices<IHostedService>().OfType<VimeoScopeStartupCheck>().Single().StartAsync(CancellationToken.None);

        Assert.Contains(_logs.Lines, l => l.Contains("Vimeo token lacks scopes interact", StringComparison.Ordinal));
        Assert.Equal(["GET /oauth/verify"], Vimeo.Requests.Select(r => $"{r.Method} {r.Path}"));

        var result = await new RecordingScenario(fixture, services).HandleAsync(message);

        Assert.Equal(RecordingOutcome.Deferred, result!.Outcome);
        Assert.All(Vimeo.Requests, r => Assert.Equal("GET /oauth/verify", $"{r.Method} {r.Path}"));
        Assert.DoesNotContain(Zoom.Requests, r => r.Path.StartsWith("/rec/", StringComparison.Ordinal) || r.Path.EndsWith("/recordings", StringComparison.Ordinal));
        Assert.Null((await _scenario.RowAsync(lecturer, booking)).GetString("VimeoVideoId"));
        await fixture.Storage.Queue(QueueNames.ZoomEvents).ClearMessagesAsync();

        // The simulator refuses the operation itself as Vimeo does: moving into a folder needs interact (403, body schema legacy-error).
        using var http = VimeoApi();
        using var move = await http.PutAsync(new Uri("me/projects/1/videos/2", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Forbidden, move.StatusCode);
        Assert.Equal(["error"], JsonDocument.Parse(await move.Content.ReadAsStringAsync()).RootElement.EnumerateObject().Select(p => p.Name));
        var refused = Assert.Single(TakeDeliberateViolations(v => v.Problem.StartsWith("token lacks scope", StringComparison.Ordinal)));
        Assert.Equal("vimeo projects.add-video: token lacks scope [interact]", refused.ToString());
    }

    [Fact]
    public async Task Scopes_TokenLosesInteractAfterTheCheck_Vimeos403DefersTheRecording_ScopesAskedAgain_ZoomCopyKept()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var message = _scenario.RecordingCompleted(meetingId);
        // This process has seen every scope: the archiver does not ask again before the upload.
        await _services.GetRequiredService<VimeoScopeCheck>().EnsureAsync();
        Vimeo.TokenScopes = [.. VimeoSimulator.AllScopes.Where(s => s != "interact")];
        ClearRequests();

        var refused = await _scenario.HandleAsync(message);

        Assert.Equal(RecordingOutcome.Deferred, refused!.Outcome);
        Assert.InRange(refused.RetryAtUtc!.Value - TimeProvider.System.GetUtcNow(), TimeSpan.FromMinutes(55), TimeSpan.FromMinutes(61));
        // Vimeo answered the move into the folder with its 403: recorded for the contract scan, taken back here as deliberate.
        var violation = Assert.Single(TakeDeliberateViolations(v => v.Problem.StartsWith("token lacks scope", StringComparison.Ordinal)));
        Assert.Equal("vimeo projects.add-video: token lacks scope [interact]", violation.ToString());
        Assert.Contains(_logs.Lines, l => l.Contains("Vimeo refused move to folder with HTTP 403", StringComparison.Ordinal));
        Assert.DoesNotContain(ZoomRecordingCalls(), r => r.Method == "DELETE");
        Assert.Contains(Zoom.Recordings, r => r.MeetingId == meetingId);
        var row = await _scenario.RowAsync(lecturer, booking);
        Assert.Null(row.GetString(RecordingColumns.FolderId));
        Assert.Null(row.GetDateTimeOffset("ZoomRecordingDeletedAtUtc"));

        // The next run asks Vimeo for the token's scopes before anything else, and waits again.
        ClearRequests();
        var waiting = await _scenario.HandleAsync(message);
        Assert.Equal(RecordingOutcome.Deferred, waiting!.Outcome);
        Assert.Equal(["GET /oauth/verify"], Vimeo.Requests.Select(r => $"{r.Method} {r.Path}"));
        Assert.Contains(_logs.Lines, l => l.Contains("Vimeo token lacks scopes interact", StringComparison.Ordinal));

        // A token with every scope: the same booking is archived, its one upload kept.
        Vimeo.TokenScopes = VimeoSimulator.AllScopes;
        ClearRequests();
        var archived = await _scenario.HandleAsync(message);
        Assert.Equal(RecordingOutcome.Archived, archived!.Outcome);
        Assert.DoesNotContain(Vimeo.Requests, r => r.Method == "POST" && r.Path == "/me/videos");
        Assert.Single(Vimeo.Requests, r => r.Method == "PUT" && r.Path.StartsWith("/me/projects/", StringComparison.Ordinal));
        Assert.Single(ZoomRecordingCalls(), r => r.Method == "DELETE");
        await fixture.Storage.Queue(QueueNames.ZoomEvents).ClearMessagesAsync();
    }

    [Fact]
    public async Task Scopes_TokenLosesUploadAfterTheCheck_Vimeos403SpendsNoAttempt_ArchivedOnceTheTokenHasIt()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var message = _scenario.RecordingCompleted(meetingId);
        await _services.GetRequiredService<VimeoScopeCheck>().EnsureAsync();
        Vimeo.TokenScopes = [.. VimeoSimulator.AllScopes.Where(s => s != "upload")];
        ClearRequests();

        var refused = await _scenario.HandleAsync(message);

        Assert.Equal(RecordingOutcome.Deferred, refused!.Outcome);
        var violation = Assert.Single(TakeDeliberateViolations(v => v.Problem.StartsWith("token lacks scope", StringComparison.Ordinal)));
        Assert.Equal("vimeo videos.upload: token lacks scope [upload]", violation.ToString());
        Assert.Contains(_logs.Lines, l => l.Contains("Vimeo refused create upload with HTTP 403", StringComparison.Ordinal));
        var row = await _scenario.RowAsync(lecturer, booking);
        // Refused for the token, not the recording: no attempt spent, no lease held, nothing made on Vimeo, Zoom's copy kept.
        Assert.Equal(0, row.GetInt32(RecordingColumns.UploadAttempts));
        Assert.True((row.GetDateTimeOffset(RecordingColumns.UploadLeaseUntilUtc) ?? DateTimeOffset.MinValue) <= TimeProvider.System.GetUtcNow());
        Assert.Null(row.GetString(RecordingColumns.VideoId));
        Assert.DoesNotContain(Vimeo.Videos, v => v.Description == _scenario.BookingReference(booking));
        Assert.DoesNotContain(ZoomRecordingCalls(), r => r.Method == "DELETE");

        Vimeo.TokenScopes = VimeoSimulator.AllScopes;
        ClearRequests();
        var archived = await _scenario.HandleAsync(message);

        Assert.Equal(RecordingOutcome.Archived, archived!.Outcome);
        Assert.Equal(1, (await _scenario.RowAsync(lecturer, booking)).GetInt32(RecordingColumns.UploadAttempts));
        Assert.Single(Vimeo.Requests, r => r.Method == "POST" && r.Path == "/me/videos");
        await fixture.Storage.Queue(QueueNames.ZoomEvents).ClearMessagesAsync();
    }

    [Theory]
    [InlineData("me/projects?query=cafetalk-lecturer", "query")]
    [InlineData("me/projects?fields=uri,name", "fields")]
    [InlineData("videos/900000001?fields=uri,upload.status", "fields")]
    public async Task VimeoSimulator_UndeclaredQueryParameter_RefusedWith400NamingIt(string target, string parameter)
    {
        using var http = VimeoApi();

        using var response = await http.GetAsync(new Uri(target, UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"'{parameter}'", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // Sent on purpose: taken back so the suite's contract scan sees only what the pipeline sent.
        var violation = Assert.Single(TakeDeliberateViolations(v => v.Problem.Contains($"'{parameter}'", StringComparison.Ordinal)));
        Assert.Equal("vimeo", violation.Provider);
    }

    [Fact]
    public async Task VimeoSimulator_PullWithALink_IsInProgressThenEndsInErrorAsynchronously_WhenThePlanSaysSo()
    {
        Vimeo.UploadOutcome = VimeoProcessingOutcome.Error;
        Vimeo.ProcessingDelay = TimeSpan.FromMilliseconds(300);
        using var http = VimeoApi();

        using var created = await http.PostAsync(new Uri("me/videos", UriKind.Relative),
            new StringContent("""{"upload":{"approach":"pull","link":"https://example.com/video.mp4"},"name":"n","privacy":{"view":"disable"}}""", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(("pull", "in_progress"), (body.GetProperty("upload").GetProperty("approach").GetString(), body.GetProperty("upload").GetProperty("status").GetString()));
        var uri = new Uri(body.GetProperty("uri").GetString()!.TrimStart('/'), UriKind.Relative);
        await Task.Delay(TimeSpan.FromMilliseconds(400));
        var later = JsonDocument.Parse(await http.GetStringAsync(uri)).RootElement;
        Assert.Equal(("error", "in_progress"), (later.GetProperty("upload").GetProperty("status").GetString(), later.GetProperty("transcode").GetProperty("status").GetString()));

        // A pull names the file's public URL; without one Vimeo has nothing to fetch.
        using var noLink = await http.PostAsync(new Uri("me/videos", UriKind.Relative),
            new StringContent("""{"upload":{"approach":"pull"},"name":"n"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, noLink.StatusCode);
        Assert.Contains("upload.link", await noLink.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VimeoSimulator_TusChunkAtTheWrongOffset_Is409AndAppendsNothing_HeadReportsTheOffset()
    {
        using var http = VimeoApi();
        using var created = await http.PostAsync(new Uri("me/videos", UriKind.Relative),
            new StringContent("""{"upload":{"approach":"tus","size":"10"},"name":"n","privacy":{"view":"disable"}}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var link = new Uri(JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("upload").GetProperty("upload_link").GetString()!);

        async Task<HttpResponseMessage> Patch(long offset, int bytes)
        {
            var content = new ByteArrayContent(new byte[bytes]);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
            using var request = new HttpRequestMessage(HttpMethod.Patch, link) { Content = content };
            request.Headers.Add("Tus-Resumable", "1.0.0");
            request.Headers.Add("Upload-Offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return await new HttpClient().SendAsync(request);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await Patch(0, 4)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await Patch(0, 4)).StatusCode);
        using var head = new HttpRequestMessage(HttpMethod.Head, link);
        head.Headers.Add("Tus-Resumable", "1.0.0");
        using var offset = await new HttpClient().SendAsync(head);
        Assert.Equal(("4", "10"), (offset.Headers.GetValues("Upload-Offset").Single(), offset.Headers.GetValues("Upload-Length").Single()));
        var done = await Patch(4, 6);
        Assert.Equal(("10", "complete"), (done.Headers.GetValues("Upload-Offset").Single(), Vimeo.Videos.Single(v => link.AbsolutePath.EndsWith(v.Id, StringComparison.Ordinal)).UploadStatus));
    }
}
