using System.Diagnostics;
using Azure.Data.Tables;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Recordings;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Vimeo;
using Cafetalk.Integrations.Sandbox.Zoom;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Vimeo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cafetalk.Integrations.IntegrationTests.Recordings;

/// <summary>recording.completed against Azurite and the Zoom and Vimeo simulators: what went over the wire, what the row and the ledger hold.</summary>
public sealed class RecordingArchiverTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
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
        Vimeo.ThrottleUntil(DateTimeOffset.MinValue);
    }

    public async Task DisposeAsync() => await _services.DisposeAsync();

    private (string Lecturer, string Student, string Booking) NewParties() =>
        (RecordingScenario.NewId("lec"), RecordingScenario.NewId("stu"), RecordingScenario.NewId("bk"));

    private void ClearRequests()
    {
        Zoom.ClearRequests();
        Vimeo.ClearRequests();
    }

    private List<RecordedZoomRequest> ZoomRecordingCalls() => [.. Zoom.Requests.Where(r => r.Path.EndsWith("/recordings", StringComparison.Ordinal))];

    private List<RecordedZoomRequest> Downloads() => [.. Zoom.Requests.Where(r => r.Path.StartsWith("/rec/download/", StringComparison.Ordinal))];

    private List<RecordedZoomRequest> FileFetches() => [.. Zoom.Requests.Where(r => r.Path.StartsWith("/rec/files/", StringComparison.Ordinal))];

    /// <summary>The API calls, without the tus requests on the upload link and the upload-state look-ups around them.</summary>
    private List<string> ApiCalls() => [.. Vimeo.Requests.Where(r => !r.Path.StartsWith("/files/", StringComparison.Ordinal) && !(r.Method == "GET" && r.Path.StartsWith("/videos/", StringComparison.Ordinal)))
        .Select(r => $"{r.Method} {r.Path}")];

    [Fact]
    public async Task Recording_SecondInstanceOfARestartedMeeting_IsDeletedFromZoomAndNeverUploaded()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var first = _scenario.RecordingCompleted(meetingId);
        Assert.Equal(RecordingOutcome.Archived, (await _scenario.HandleAsync(first))!.Outcome);
        ClearRequests();
        var second = first.Replace($"uuid-{meetingId}==", $"uuid-{meetingId}-restarted==", StringComparison.Ordinal);
        Assert.NotEqual(first, second);

        var result = await _scenario.HandleAsync(second);
        var again = await _scenario.HandleAsync(second);

        Assert.Equal(RecordingOutcome.Discarded, result!.Outcome);
        var delete = Assert.Single(ZoomRecordingCalls());
        Assert.Equal("DELETE", delete.Method);
        Assert.Contains("restarted", Uri.UnescapeDataString(delete.Path), StringComparison.Ordinal);
        Assert.DoesNotContain(Vimeo.Requests, r => r.Method == "POST" && r.Path == "/me/videos");
        Assert.Equal(RecordingOutcome.AlreadyDone, again!.Outcome);
        Assert.Single(ZoomRecordingCalls());
    }

    // Found by fuzzing (zoom-events input #236): an eventTs no DateTimeOffset holds threw ArgumentOutOfRangeException
    // after the upload lease was taken, so the message was retried until poisoned without a reason.
    [Fact]
    public async Task Recording_EventTsNoCalendarHolds_IsPoisonedWithAReason_AndNothingIsUploaded()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var message = System.Text.RegularExpressions.Regex.Replace(_scenario.RecordingCompleted(meetingId), "\"eventTs\":\\d+", "\"eventTs\":9223372036854775807");
        var poison = fixture.Storage.Queue(QueueNames.BookingEventsPoison);
        await poison.ClearMessagesAsync();
        ClearRequests();

        var result = await _scenario.HandleAsync(message, "msg-event-ts");

        Assert.Null(result);
        var envelope = PoisonEnvelope.TryParse(Assert.Single((await poison.ReceiveMessagesAsync(32)).Value).Body.ToString())!;
        Assert.Equal((QueueNames.ZoomEvents, "invalid-field", "msg-event-ts"), (envelope.SourceQueue, envelope.Reason, envelope.CorrelationId));
        Assert.Empty(Vimeo.Requests);
        Assert.Null((await _scenario.RowAsync(lecturer, booking)).GetDateTimeOffset(RecordingColumns.UploadLeaseUntilUtc));
    }

    [Fact]
    public async Task Recording_BothConsented_StreamedByTusPrivateIntoTheLecturersFolder_ThenZoomCopyDeleted()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var message = _scenario.RecordingCompleted(meetingId);
        var recording = Assert.Single(Zoom.Recordings, r => r.MeetingId == meetingId);
        ClearRequests();

        var result = await _scenario.HandleAsync(message);

        Assert.Equal(RecordingOutcome.Archived, result!.Outcome);
        var video = Assert.Single(Vimeo.Videos, v => v.Description == _scenario.BookingReference(booking));
        Assert.Equal((VimeoTusUpload.NeutralName, "disable", "whitelist", false, "nobody"), (video.Body["name"]!.GetValue<string>(), video.PrivacyView, video.PrivacyEmbed, video.PrivacyDownload, video.PrivacyComments));
        Assert.Equal(("tus", recording.Size.ToString(System.Globalization.CultureInfo.InvariantCulture)), (video.Body["upload"]!["approach"]!.GetValue<string>(), video.Body["upload"]!["size"]!.GetValue<string>()));
        // Vimeo holds exactly Zoom's file, and says so.
        Assert.Equal((recording.Size, recording.Sha256(), "complete"), (video.ReceivedBytes, video.ReceivedSha256, video.UploadStatus));
        Assert.Equal(["cafetalk.com"], video.EmbedDomains);
        var folder = Assert.Single(Vimeo.Folders, f => f.Name == _scenario.LecturerReference(lecturer));
        Assert.Equal(folder.Id, video.FolderId);
        Assert.DoesNotContain(Zoom.Recordings, r => r.MeetingId == meetingId);

        // Requests for one consented recording with a fresh webhook token and a lecturer without a folder yet.
        Assert.Equal(
            ["GET /oauth/verify", "POST /me/videos", $"PUT /videos/{video.Id}/privacy/domains/cafetalk.com", "GET /me/projects", "POST /me/projects", $"PUT /me/projects/{folder.Id}/videos/{video.Id}"],
            ApiCalls());
        var patches = Vimeo.Requests.Where(r => r.Method == "PATCH").ToList();
        Assert.Equal(["0", "65536", "131072", "196608"], patches.Select(r => r.Headers!["Upload-Offset"]));
        Assert.All(patches, r => Assert.Equal((204, "1.0.0", "application/offset+octet-stream", null), (r.Status, r.Headers!["Tus-Resumable"], r.Headers["Content-Type"], r.AuthScheme)));
        Assert.DoesNotContain(Vimeo.Requests, r => r.Status == 400 || r.Status == 403);
        Assert.Equal(["DELETE"], ZoomRecordingCalls().Select(r => r.Method));
        Assert.Equal("?action=delete", ZoomRecordingCalls()[0].Query);
        var download = Assert.Single(Downloads());
        Assert.Equal((302, string.Empty, "Bearer"), (download.Status, download.Query, download.Headers["Authorization"]));
        var file = Assert.Single(FileFetches());
        Assert.Equal(200, file.Status);
        Assert.False(file.Headers.ContainsKey("Authorization"), "the download token followed the redirect to another host");
        // Zoom's copy went only after Vimeo reported every byte complete.
        var confirmed = Vimeo.Requests.Last(r => r.Method == "GET" && r.Path == $"/videos/{video.Id}");
        Assert.True(patches[^1].ReceivedAtUtc <= confirmed.ReceivedAtUtc && confirmed.ReceivedAtUtc <= ZoomRecordingCalls()[0].ReceivedAtUtc);

        var row = await _scenario.RowAsync(lecturer, booking);
        Assert.Equal((video.Id, folder.Id, "Archived"), (row.GetString("VimeoVideoId"), row.GetString("VimeoFolderId"), row.GetString("RecordingDisposition")));
        Assert.NotNull(row.GetDateTimeOffset("ZoomRecordingDeletedAtUtc"));

        var everythingSent = string.Join("\n", Vimeo.Requests.Select(r => r.Path + r.Query + r.Body));
        foreach (var value in SampleEvents.PlantedPersonalValues.Concat([lecturer, student, booking]))
        {
            Assert.DoesNotContain(value, everythingSent, StringComparison.Ordinal);
        }

        var token = System.Text.Json.JsonDocument.Parse(message).RootElement.GetProperty("downloadToken").GetString()!;
        Assert.DoesNotContain(_logs.Lines, l => l.Contains(token, StringComparison.Ordinal) || l.Contains("/rec/download/", StringComparison.Ordinal));

        var studentChain = await _scenario.ChainAsync(student);
        var upload = Assert.Single(studentChain, e => e.PurposeId == DisclosurePolicy.PurposeIds.VimeoLessonRecording && e.Operation == "create" && e.Outcome == DisclosureOutcome.Intended);
        Assert.Contains("description", upload.DataItems);
        // The bytes themselves are a disclosure of both parties: recorded before the first chunk, and once completed.
        var bytes = studentChain.Where(e => e.PurposeId == DisclosurePolicy.PurposeIds.VimeoLessonRecording && e.Operation == "upload").ToList();
        Assert.Equal([DisclosureOutcome.Intended, DisclosureOutcome.Succeeded], bytes.Select(e => e.Outcome));
        Assert.Contains("content:recording", bytes[0].DataItems);
        Assert.True(bytes[0].ProvidedAtUtc <= patches[0].ReceivedAtUtc);
        Assert.Contains(studentChain, e => e.PurposeId == DisclosurePolicy.PurposeIds.VimeoLessonRecording && e.Operation == "create" && e.Outcome == DisclosureOutcome.Succeeded && e.ProviderObjectId == video.Id);
        Assert.Contains(studentChain, e => e.PurposeId == DisclosurePolicy.PurposeIds.ZoomRecordingCleanup && e.Operation == "delete" && e.Outcome == DisclosureOutcome.Succeeded);
        var lecturerChain = await _scenario.ChainAsync(lecturer);
        Assert.Contains(lecturerChain, e => e.PurposeId == DisclosurePolicy.PurposeIds.VimeoLecturerFolder && e.Operation == "create" && e.Outcome == DisclosureOutcome.Succeeded);
        Assert.DoesNotContain(studentChain, e => e.PurposeId == DisclosurePolicy.PurposeIds.VimeoLecturerFolder);
        Assert.True((await _services.GetRequiredService<LedgerVerifier>().VerifyAsync()).IsIntact);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task Recording_OneSideDidNotConsent_ZoomCopyDeletedAndNothingUploaded(bool consentLecturer, bool consentStudent)
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking, consentLecturer, consentStudent);
        // Zoom records only with both consents; a recording that exists anyway (a host pressed "record") must still go.
        var message = _scenario.RecordingCompleted(meetingId);
        ClearRequests();

        var result = await _scenario.HandleAsync(message);
        var again = await _scenario.HandleAsync(message);

        Assert.Equal((RecordingOutcome.Discarded, RecordingOutcome.AlreadyDone), (result!.Outcome, again!.Outcome));
        Assert.Empty(Vimeo.Requests);
        Assert.Empty(Downloads());
        var delete = Assert.Single(ZoomRecordingCalls());
        Assert.Equal(("DELETE", $"/v2/meetings/uuid-{meetingId}%3D%3D/recordings", 204), (delete.Method, delete.Path.Replace("==", "%3D%3D", StringComparison.Ordinal), delete.Status));
        Assert.DoesNotContain(Zoom.Recordings, r => r.MeetingId == meetingId);
        var row = await _scenario.RowAsync(lecturer, booking);
        Assert.Equal(("Discarded", null), (row.GetString("RecordingDisposition"), row.GetString("VimeoVideoId")));
        foreach (var member in new[] { lecturer, student })
        {
            var chain = await _scenario.ChainAsync(member);
            Assert.Equal([DisclosureOutcome.Intended, DisclosureOutcome.Succeeded],
                chain.Where(e => e.PurposeId == DisclosurePolicy.PurposeIds.ZoomRecordingCleanup).Select(e => e.Outcome));
        }
    }

    [Fact]
    public async Task Recording_RedeliveredAndResentByZoom_UploadsOnceAndTheRepeatsCallNothing()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var message = _scenario.RecordingCompleted(meetingId);
        await _scenario.HandleAsync(message);
        ClearRequests();

        var redelivered = await _scenario.HandleAsync(message);
        var resent = await _scenario.HandleAsync(_scenario.RecordingCompleted(meetingId, TimeProvider.System.GetUtcNow().AddMinutes(3)));

        Assert.Equal((RecordingOutcome.AlreadyDone, RecordingOutcome.AlreadyDone), (redelivered!.Outcome, resent!.Outcome));
        Assert.Empty(Vimeo.Requests);
        Assert.Empty(Zoom.Requests);
        Assert.Single(Vimeo.Videos, v => v.Description == _scenario.BookingReference(booking));
    }

    [Fact]
    public async Task Recording_CrashAfterVimeoAcceptedTheUpload_FoundByItsReferenceAndResumedNotUploadedAgain()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var message = _scenario.RecordingCompleted(meetingId);
        var recording = Assert.Single(Zoom.Recordings, r => r.MeetingId == meetingId);
        await using var services = RecordingScenario.Services(fixture, _logs, configure: o => o.UploadLease = TimeSpan.FromMilliseconds(200));
        var scenario = new RecordingScenario(fixture, services);
        using var crash = new CancellationTokenSource();
        Vimeo.AfterPatch = (_, _) => crash.Cancel();
        try
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => scenario.HandleAsync(message, cancellationToken: crash.Token));
        }
        finally
        {
            Vimeo.AfterPatch = null;
        }

        var videoId = (await _scenario.RowAsync(lecturer, booking)).GetString("VimeoVideoId");
        // As if the process died after Vimeo's 201 and before the row write: the lease ran out, no video id.
        var table = fixture.Storage.Table(TableNames.Bookings);
        await table.UpdateEntityAsync(new TableEntity(lecturer, booking)
        {
            ["VimeoVideoId"] = string.Empty,
            ["VimeoUploadLeaseUntilUtc"] = TimeProvider.System.GetUtcNow().AddMinutes(-1),
        }, Azure.ETag.All, TableUpdateMode.Merge);
        ClearRequests();

        var result = await scenario.HandleAsync(message);

        Assert.Equal(RecordingOutcome.Archived, result!.Outcome);
        Assert.Equal(videoId, result.VideoId);
        var video = Assert.Single(Vimeo.Videos, v => v.Description == _scenario.BookingReference(booking));
        Assert.Equal((recording.Size, recording.Sha256()), (video.ReceivedBytes, video.ReceivedSha256));
        Assert.Equal("GET /me/videos", Vimeo.Requests[0].Method + " " + Vimeo.Requests[0].Path);
        Assert.Equal("?query=" + Uri.EscapeDataString(_scenario.BookingReference(booking)), Vimeo.Requests[0].Query);
        Assert.DoesNotContain(Vimeo.Requests, r => r.Method == "POST" && r.Path == "/me/videos");
        // The chunk Vimeo took before the crash is not sent again.
        Assert.Equal(["65536", "131072", "196608"], Vimeo.Requests.Where(r => r.Method == "PATCH").Select(r => r.Headers!["Upload-Offset"]));
        Assert.Equal(videoId, (await _scenario.RowAsync(lecturer, booking)).GetString("VimeoVideoId"));
    }

    [Fact]
    public async Task Recording_WebhookDownloadTokenExpired_FreshTokenFromZoomFirst_ThenDownloadedWithIt()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var sentAt = TimeProvider.System.GetUtcNow();
        var message = _scenario.RecordingCompleted(meetingId, sentAt);
        Zoom.ExpireDownloadTokens();
        var time = new FakeTimeProvider(sentAt.AddHours(25));
        await using var later = RecordingScenario.Services(fixture, _logs, time);
        ClearRequests();

        var result = await new RecordingScenario(fixture, later).HandleAsync(message);

        Assert.Equal(RecordingOutcome.Archived, result!.Outcome);
        var fresh = Assert.Single(ZoomRecordingCalls(), r => r.Method == "GET");
        Assert.Contains("include_fields=download_access_token", fresh.Query, StringComparison.Ordinal);
        var download = Assert.Single(Downloads());
        Assert.Equal((302, string.Empty, "Bearer"), (download.Status, download.Query, download.Headers["Authorization"]));
        Assert.True(fresh.ReceivedAtUtc <= download.ReceivedAtUtc);
        Assert.Single(Vimeo.Videos, v => v.Description == _scenario.BookingReference(booking) && v.UploadStatus == "complete");

        // The control: the webhook's own token no longer opens the file, so only the fresh one could have.
        var webhookToken = System.Text.Json.JsonDocument.Parse(message).RootElement.GetProperty("downloadToken").GetString()!;
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var stale = new HttpRequestMessage(HttpMethod.Get, new Uri(Zoom.BaseAddress, $"rec/download/{meetingId}/file-1"));
        stale.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", webhookToken);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await http.SendAsync(stale)).StatusCode);
    }

    [Fact]
    public async Task Recording_Vimeo429ThatResetsSoon_WaitsForXRateLimitResetAndUploadsOnce()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var message = _scenario.RecordingCompleted(meetingId);
        ClearRequests();
        var throttledBefore = Vimeo.ThrottledCount;
        Vimeo.ThrottleUntil(TimeProvider.System.GetUtcNow().AddSeconds(1.5));
        var clock = Stopwatch.StartNew();

        var result = await _scenario.HandleAsync(message);

        Assert.Equal(RecordingOutcome.Archived, result!.Outcome);
        Assert.True(Vimeo.ThrottledCount > throttledBefore);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"waited only {clock.Elapsed}");
        Assert.Equal(429, Vimeo.Requests[0].Status);
        Assert.Single(Vimeo.Requests, r => r.Method == "POST" && r.Path == "/me/videos" && r.Status == 201);
        Assert.Single(Vimeo.Videos, v => v.Description == _scenario.BookingReference(booking));
    }

    [Fact]
    public async Task Recording_Vimeo429ThatResetsLate_MessageWaitsOnTheQueueUntilTheReset_ThenUploadsOnce()
    {
        var (lecturer, student, booking) = NewParties();
        var meetingId = await _scenario.BookAsync(lecturer, student, booking);
        var message = _scenario.RecordingCompleted(meetingId);
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var services = RecordingScenario.Services(fixture, _logs, time);
        var scenario = new RecordingScenario(fixture, services);
        var reset = TimeProvider.System.GetUtcNow().AddMinutes(10);
        Vimeo.ThrottleUntil(reset);
        var queue = fixture.Storage.Queue(QueueNames.ZoomEvents);
        await queue.ClearMessagesAsync();
        ClearRequests();

        var deferred = await scenario.HandleAsync(message);

        Assert.Equal(RecordingOutcome.Deferred, deferred!.Outcome);
        Assert.Equal(reset.ToUnixTimeSeconds(), deferred.RetryAtUtc!.Value.ToUnixTimeSeconds());
        Assert.Empty((await queue.PeekMessagesAsync()).Value);
        Assert.Equal(1, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
        Assert.DoesNotContain(Vimeo.Videos, v => v.Description == scenario.BookingReference(booking));
        Assert.Null((await scenario.RowAsync(lecturer, booking)).GetString("VimeoVideoId"));

        Vimeo.ThrottleUntil(DateTimeOffset.MinValue);
        time.Advance(TimeSpan.FromMinutes(11));
        ClearRequests();
        var resumed = await scenario.HandleAsync(message);

        Assert.Equal(RecordingOutcome.Archived, resumed!.Outcome);
        // The scope check met the 429 before any lease or upload, so nothing needs looking up: one upload.
        Assert.Equal(["GET /oauth/verify", "POST /me/videos"], Vimeo.Requests.Take(2).Select(r => $"{r.Method} {r.Path}"));
        Assert.Single(Vimeo.Videos, v => v.Description == scenario.BookingReference(booking));
        await queue.ClearMessagesAsync();
    }

    [Fact]
    public async Task Recording_SecondLessonOfTheSameLecturer_ReusesTheFolder_ThreeVimeoApiCallsBesideTheUpload()
    {
        var (lecturer, student, booking) = NewParties();
        await _scenario.HandleAsync(_scenario.RecordingCompleted(await _scenario.BookAsync(lecturer, student, booking)));
        var second = RecordingScenario.NewId("bk");
        var message = _scenario.RecordingCompleted(await _scenario.BookAsync(lecturer, student, second));
        ClearRequests();

        var result = await _scenario.HandleAsync(message);

        var folder = Assert.Single(Vimeo.Folders, f => f.Name == _scenario.LecturerReference(lecturer));
        Assert.Equal(
            ["POST /me/videos", $"PUT /videos/{result!.VideoId}/privacy/domains/cafetalk.com", $"PUT /me/projects/{folder.Id}/videos/{result.VideoId}"],
            ApiCalls());
        Assert.Single(ZoomRecordingCalls());
    }

    [Fact]
    public async Task Recording_OfAMeetingNoBookingHas_LeftAlone()
    {
        var message = _scenario.RecordingCompleted(79_999_999_001);
        ClearRequests();

        var result = await _scenario.HandleAsync(message);

        Assert.Equal(RecordingOutcome.NoBooking, result!.Outcome);
        Assert.Empty(Vimeo.Requests);
        Assert.Empty(ZoomRecordingCalls());
    }
}
