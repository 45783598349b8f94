using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Functions.Recordings;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Recordings;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Vimeo;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Vimeo;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace Cafetalk.Integrations.IntegrationTests.Recordings;

/// <summary>Recordings leave Vimeo on time: retention, cancellation, erasure; and the simulator refuses what Vimeo refuses.</summary>
public sealed class RecordingDeleterTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private readonly CapturedLogs _logs = new();

    private VimeoSimulator Vimeo => fixture.Sandbox.Vimeo;

    private async Task<string> ArchiveAsync(RecordingScenario scenario, string lecturer, string student, string booking)
    {
        var meetingId = await scenario.BookAsync(lecturer, student, booking);
        var result = await scenario.HandleAsync(scenario.RecordingCompleted(meetingId));
        Assert.Equal(RecordingOutcome.Archived, result!.Outcome);
        return result.VideoId!;
    }

    [Fact]
    public async Task RetentionTimer_VideoOlderThan90Days_Deleted_YoungerOneKept()
    {
        await fixture.Storage.EnsureProvisionedAsync();
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var services = RecordingScenario.Services(fixture, _logs, time);
        var scenario = new RecordingScenario(fixture, services);
        var (lecturer, student) = (RecordingScenario.NewId("lec"), RecordingScenario.NewId("stu"));
        var (old, young) = (RecordingScenario.NewId("bk"), RecordingScenario.NewId("bk"));
        var oldVideo = await ArchiveAsync(scenario, lecturer, student, old);
        time.Advance(TimeSpan.FromDays(10));
        var youngVideo = await ArchiveAsync(scenario, lecturer, student, young);
        time.Advance(TimeSpan.FromDays(80) + TimeSpan.FromMinutes(1));
        Vimeo.ClearRequests();
        var context = new Mock<FunctionContext>();
        context.SetupGet(c => c.InvocationId).Returns("retention-run-1");

        await new RecordingRetentionFunction(services.GetRequiredService<RecordingDeleter>()).Run(new TimerInfo(), context.Object, CancellationToken.None);
        await new RecordingRetentionFunction(services.GetRequiredService<RecordingDeleter>()).Run(new TimerInfo(), context.Object, CancellationToken.None);

        // Other tests' videos in this Sandbox are old too by now; ours: the old one deleted once, the young one untouched.
        Assert.Single(Vimeo.Requests, r => r.Method == "DELETE" && r.Path == $"/videos/{oldVideo}");
        Assert.DoesNotContain(Vimeo.Requests, r => r.Path == $"/videos/{youngVideo}");
        Assert.DoesNotContain(Vimeo.Videos, v => v.Id == oldVideo);
        Assert.Contains(Vimeo.Videos, v => v.Id == youngVideo);
        var row = await scenario.RowAsync(lecturer, old);
        Assert.Equal((true, "retention"), (row.GetBoolean("VimeoVideoDeleted"), row.GetString("VimeoVideoDeletedReason")));
        Assert.False((await scenario.RowAsync(lecturer, young)).GetBoolean("VimeoVideoDeleted"));
        foreach (var member in new[] { lecturer, student })
        {
            var delete = (await scenario.ChainAsync(member)).Where(e => e.Operation == "delete" && e.ProviderObjectId == oldVideo && e.PurposeId == DisclosurePolicy.PurposeIds.VimeoLessonRecording);
            Assert.Equal([DisclosureOutcome.Intended, DisclosureOutcome.Succeeded], delete.Select(e => e.Outcome));
        }
    }

    [Fact]
    public async Task Cancel_AfterTheRecording_RecordingConvergeDeletesTheVideo()
    {
        await fixture.Storage.EnsureProvisionedAsync();
        await using var services = RecordingScenario.Services(fixture, _logs);
        var scenario = new RecordingScenario(fixture, services);
        var (lecturer, student, booking) = (RecordingScenario.NewId("lec"), RecordingScenario.NewId("stu"), RecordingScenario.NewId("bk"));
        var video = await ArchiveAsync(scenario, lecturer, student, booking);
        var queue = fixture.Storage.Queue(QueueNames.RecordingConverge);
        await queue.ClearMessagesAsync();
        await services.GetRequiredService<BookingEventIntake>().ProcessAsync(
            SampleEvents.Booking(EventTypes.BookingCancelled, booking, 2, RecordingScenario.LessonStart, lecturer, student), null);
        Vimeo.ClearRequests();

        var message = Assert.Single((await queue.ReceiveMessagesAsync(32)).Value);
        var deleted = await services.GetRequiredService<RecordingConvergeHandler>().HandleAsync(message.Body.ToString(), message.MessageId);
        var again = await services.GetRequiredService<RecordingConvergeHandler>().HandleAsync(message.Body.ToString(), message.MessageId);

        Assert.Equal((true, false), (deleted, again));
        Assert.Equal([$"DELETE /videos/{video}"], Vimeo.Requests.Select(r => $"{r.Method} {r.Path}"));
        Assert.DoesNotContain(Vimeo.Videos, v => v.Id == video);
        Assert.Equal("cancelled", (await scenario.RowAsync(lecturer, booking)).GetString("VimeoVideoDeletedReason"));
    }

    [Fact]
    public async Task Erasure_OfAStudent_DeletesTheirVideos_AndALaterRecordingIsDiscardedNotUploaded()
    {
        await fixture.Storage.EnsureProvisionedAsync();
        await using var services = RecordingScenario.Services(fixture, _logs);
        var scenario = new RecordingScenario(fixture, services);
        var (lecturer, student, other) = (RecordingScenario.NewId("lec"), RecordingScenario.NewId("stu"), RecordingScenario.NewId("stu"));
        var (first, second, pending, othersBooking) = (RecordingScenario.NewId("bk"), RecordingScenario.NewId("bk"), RecordingScenario.NewId("bk"), RecordingScenario.NewId("bk"));
        var videos = new[] { await ArchiveAsync(scenario, lecturer, student, first), await ArchiveAsync(scenario, lecturer, student, second) };
        var othersVideo = await ArchiveAsync(scenario, lecturer, other, othersBooking);
        var pendingMeeting = await scenario.BookAsync(lecturer, student, pending);
        var pendingMessage = scenario.RecordingCompleted(pendingMeeting);
        Vimeo.ClearRequests();

        var erased = await services.GetRequiredService<RecordingDeleter>().DeleteRecordingsOfMemberAsync(student);
        var later = await scenario.HandleAsync(pendingMessage);

        Assert.Equal(new MemberRecordingsErased(3, 2, 1, false), erased);
        Assert.Equal(videos.Select(v => $"DELETE /videos/{v}").Order(), Vimeo.Requests.Select(r => $"{r.Method} {r.Path}").Order());
        Assert.DoesNotContain(Vimeo.Videos, v => videos.Contains(v.Id));
        Assert.Contains(Vimeo.Videos, v => v.Id == othersVideo);
        // The erasure deleted the meeting's recordings without knowing this instance, so it is deleted again (Zoom: 404, done).
        Assert.Equal(RecordingOutcome.Discarded, later!.Outcome);
        Assert.DoesNotContain(fixture.Sandbox.Zoom.Recordings, r => r.MeetingId == pendingMeeting);
        Assert.DoesNotContain(Vimeo.Videos, v => v.Description == scenario.BookingReference(pending));
        Assert.NotNull((await scenario.RowAsync(lecturer, pending)).GetDateTimeOffset("RecordingWithdrawnAtUtc"));
    }

    [Fact]
    public async Task Erasure_OfALecturer_AlsoDeletesTheirFolder()
    {
        await fixture.Storage.EnsureProvisionedAsync();
        await using var services = RecordingScenario.Services(fixture, _logs);
        var scenario = new RecordingScenario(fixture, services);
        var (lecturer, student, booking) = (RecordingScenario.NewId("lec"), RecordingScenario.NewId("stu"), RecordingScenario.NewId("bk"));
        await ArchiveAsync(scenario, lecturer, student, booking);

        var erased = await services.GetRequiredService<RecordingDeleter>().DeleteRecordingsOfMemberAsync(lecturer);

        Assert.Equal(new MemberRecordingsErased(1, 1, 0, true), erased);
        Assert.DoesNotContain(Vimeo.Folders, f => f.Name == scenario.LecturerReference(lecturer));
        Assert.Contains(Vimeo.Requests, r => r.Method == "DELETE" && r.Path.StartsWith("/me/projects/", StringComparison.Ordinal) && r.Query == "?should_delete_clips=false");
    }

    [Theory]
    [InlineData("view", "\"private-ish\"")]
    [InlineData("embed", "\"everywhere\"")]
    [InlineData("comments", "\"friends\"")]
    [InlineData("download", "\"no\"")]
    public async Task VimeoSimulator_UnknownPrivacyValue_RefusedWith400NamingTheField(string field, string value)
    {
        var privacy = new Dictionary<string, string> { ["view"] = "\"disable\"", ["embed"] = "\"whitelist\"", ["comments"] = "\"nobody\"", ["download"] = "false" };
        privacy[field] = value;
        var body = $"{{\"upload\":{{\"approach\":\"tus\",\"size\":\"1024\"}},\"name\":\"x\",\"privacy\":{{{string.Join(",", privacy.Select(p => $"\"{p.Key}\":{p.Value}"))}}}}}";
        using var http = new HttpClient { BaseAddress = Vimeo.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "me/videos") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Vimeo.AccessToken);

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"privacy.{field}", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // Sent on purpose: taken back so the suite's contract scan sees only what the pipeline sent.
        var taken = Cafetalk.Integrations.Sandbox.Contracts.ContractViolations.TakeFrom(Vimeo.BaseAddress);
        Cafetalk.Integrations.Sandbox.Contracts.ContractViolations.Record(Vimeo.BaseAddress, taken.Where(v => !v.Problem.Contains($"privacy.{field}", StringComparison.Ordinal)));
        Assert.Contains(taken, v => v.Problem.Contains($"privacy.{field}", StringComparison.Ordinal));
        Assert.DoesNotContain(Vimeo.Videos, v => v.Body["name"]?.GetValue<string>() == "x");
    }
}
