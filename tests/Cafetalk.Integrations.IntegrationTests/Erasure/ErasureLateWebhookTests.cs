using System.Net;
using System.Text;
using Azure.Data.Tables;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Erasure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.IntegrationTests.Recordings;
using Cafetalk.Integrations.Recordings;
using Cafetalk.Integrations.Sandbox.Zoom;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Vimeo;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Erasure;

/// <summary>
/// Zoom finishes a recording, or ends a meeting, after the student was erased. The signed webhook brings nothing of
/// theirs back (no pseudonym, no upload, no meeting), and Zoom's late cloud copy is deleted: the delete is on the
/// student's own (now unlinked) chain and on the erasure's receipt, and the ledger still verifies.
/// </summary>
public sealed class ErasureLateWebhookTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task RecordingCompleted_AfterTheStudentsErasure_DeletesZoomsCopy_OnTheirChainAndReceipt_RecreatesNothing()
    {
        await using var services = RecordingScenario.Services(fixture, new CapturedLogs());
        var late = await EraseStudentAfterTheLessonAsync(services);
        var zoomRequestsBefore = fixture.Sandbox.Zoom.Requests.Count;

        var message = await DeliverSignedAsync(services, fixture.Sandbox.Zoom.RecordingCompletedBody(late.MeetingId, ZoomSimulator.DefaultHostUserId));
        var result = await late.Scenario.HandleAsync(message);

        Assert.Equal(RecordingOutcome.Discarded, result!.Outcome);
        // Zoom: the DELETE of that recording went over the wire, and Zoom holds it no more.
        var sent = fixture.Sandbox.Zoom.Requests.Skip(zoomRequestsBefore).ToList();
        var delete = Assert.Single(sent, r => r.Method == "DELETE" && r.Path.EndsWith("/recordings", StringComparison.Ordinal));
        Assert.Equal(204, delete.Status);
        Assert.Contains("action=delete", delete.Query, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Sandbox.Zoom.Recordings, r => r.MeetingId == late.MeetingId);
        Assert.DoesNotContain(sent, r => r.IsCreate);
        // Nothing to Vimeo, no mapping re-created, the row still names no student.
        Assert.DoesNotContain(fixture.Sandbox.Vimeo.Videos, v => v.Body["description"]?.GetValue<string>() == late.Scenario.BookingReference(late.Booking));
        Assert.Null(await services.GetRequiredService<SubjectRegistry>().FindAsync(late.Student));
        var row = await late.Scenario.RowAsync(late.Lecturer, late.Booking);
        Assert.Equal(string.Empty, row.GetString("StudentId"));
        // Ledger: the student's old chain gained exactly the delete's Intended and Succeeded rows, on the erasure's basis.
        var chain = await services.GetRequiredService<DisclosureLedger>().ReadChainAsync(late.SubjectRef);
        var followUp = chain.Skip(late.StudentRowsBefore).ToList();
        Assert.Equal([DisclosureOutcome.Intended, DisclosureOutcome.Succeeded], followUp.Select(e => e.Outcome));
        Assert.All(followUp, e =>
        {
            Assert.Equal(DisclosurePolicy.PurposeIds.ZoomRecordingCleanup, e.PurposeId);
            Assert.Equal("delete", e.Operation);
            Assert.Equal(SubjectRole.Student, e.Role);
            Assert.Equal(["path:meetingId"], e.DataItems);
            Assert.Equal(late.Booking, e.BookingId);
            Assert.Equal(late.ErasureCorrelationId, e.ConsentRecordId);
        });
        // The privacy office's export of the erased student shows it too.
        var exported = await services.GetRequiredService<DisclosureExport>().ForErasedMemberAsync(late.Student, fixture.Sandbox.Keys.PrivacyOffice.PrivateKeyPem);
        Assert.Contains(exported!, d => d.Operation == "delete" && d.ConsentRecordId == late.ErasureCorrelationId && d.Outcome == "Succeeded");
        // The receipt records the follow-up; the erasure itself stays completed.
        var receipt = (await services.GetRequiredService<ErasureReceipts>().FindAsync(late.Student))!;
        Assert.True(receipt.IsCompleted);
        var step = Assert.Single(receipt.Steps, s => s.Provider == ErasureFollowUps.LateZoomRecording);
        Assert.Equal((ErasureStep.Done, "late recording at Zoom deleted", $"booking {late.Booking}"), (step.Outcome, step.Action, step.Detail));
        // The tombstone (with the sealed mapping) outlives the new rows, so they still identify the person.
        var tombstone = (await services.GetRequiredService<SubjectRegistry>().FindSealedAsync(late.Student))!.Value;
        Assert.True(tombstone.RetainUntil >= followUp.Max(e => e.RetainUntilUtc), $"{tombstone.RetainUntil:O}");
        // ledger verify, with this Sandbox's member key so the mappings are checked too: exit 0.
        Environment.SetEnvironmentVariable("Erasure__MemberKey", fixture.Sandbox.Keys.ErasureMemberKey);
        var verify = await CliRun.RunAsync("ledger", "verify", "--connection-string", fixture.Sandbox.StorageConnectionString);
        Assert.True(verify.Exit == 0, verify.Out + verify.Err);

        // A redelivery of the same webhook changes nothing.
        var again = await late.Scenario.HandleAsync(message);
        Assert.Equal(RecordingOutcome.AlreadyDone, again!.Outcome);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RecordingCompleted_AfterTheStudentsErasure_ZoomDeleteFails_ReceiptSaysPending_TheRetryDeletesIt(bool messageEndedInPoison)
    {
        // Zoom's client retries a 500 in place first: quickly here.
        await using var services = fixture.CreateServices(configure: s => s.Configure<ZoomOptions>(o => (o.RetryBaseDelay, o.RetryMaxDelay) = (TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50))));
        var late = await EraseStudentAfterTheLessonAsync(services);
        var message = await DeliverSignedAsync(services, fixture.Sandbox.Zoom.RecordingCompletedBody(late.MeetingId, ZoomSimulator.DefaultHostUserId));
        fixture.Sandbox.Zoom.FailNext(1000, HttpStatusCode.InternalServerError);
        try
        {
            // Every in-place retry fails too: the failure reaches the queue trigger, so the host retries the message.
            await Assert.ThrowsAsync<ZoomApiException>(() => late.Scenario.HandleAsync(message));
        }
        finally
        {
            fixture.Sandbox.Zoom.FailNext(0);
        }

        Assert.Contains(fixture.Sandbox.Zoom.Recordings, r => r.MeetingId == late.MeetingId);
        var pending = Assert.Single((await services.GetRequiredService<ErasureReceipts>().FindAsync(late.Student))!.Steps, s => s.Provider == ErasureFollowUps.LateZoomRecording);
        Assert.Equal(ErasureStep.Failed, pending.Outcome);
        Assert.Equal("late recording at Zoom not yet deleted: Zoom delete recording, HTTP 500; retried", pending.Action);
        var failed = (await services.GetRequiredService<DisclosureLedger>().ReadChainAsync(late.SubjectRef)).Skip(late.StudentRowsBefore).ToList();
        Assert.Equal([DisclosureOutcome.Intended, DisclosureOutcome.Failed], failed.Select(e => e.Outcome));
        Assert.Equal($"uuid-{late.MeetingId}==", (await late.Scenario.RowAsync(late.Lecturer, late.Booking)).GetString("ZoomLateDeletesPending"));

        if (messageEndedInPoison)
        {
            // Every delivery failed and the poisoned copy keeps no meeting id: the nightly sweep retries from the row.
            await services.GetRequiredService<RecordingDeleter>().SweepAsync("nightly-test");
        }
        else
        {
            Assert.Equal(RecordingOutcome.Discarded, (await late.Scenario.HandleAsync(message))!.Outcome);
        }

        Assert.DoesNotContain(fixture.Sandbox.Zoom.Recordings, r => r.MeetingId == late.MeetingId);
        Assert.Equal(string.Empty, (await late.Scenario.RowAsync(late.Lecturer, late.Booking)).GetString("ZoomLateDeletesPending"));
        var done = Assert.Single((await services.GetRequiredService<ErasureReceipts>().FindAsync(late.Student))!.Steps, s => s.Provider == ErasureFollowUps.LateZoomRecording);
        Assert.Equal((ErasureStep.Done, "late recording at Zoom deleted"), (done.Outcome, done.Action));
        var chain = (await services.GetRequiredService<DisclosureLedger>().ReadChainAsync(late.SubjectRef)).Skip(late.StudentRowsBefore).ToList();
        Assert.Equal([DisclosureOutcome.Intended, DisclosureOutcome.Failed, DisclosureOutcome.Intended, DisclosureOutcome.Succeeded], chain.Select(e => e.Outcome));
        Assert.True((await services.GetRequiredService<LedgerVerifier>().VerifyAsync()).IsIntact);
    }

    [Fact]
    public async Task ErasedStudentsRecording_AnythingButADelete_HasNoIntentForThem_AndTheGateSendsNothing()
    {
        await using var services = RecordingScenario.Services(fixture, new CapturedLogs());
        var late = await EraseStudentAfterTheLessonAsync(services);
        var row = await late.Scenario.RowAsync(late.Lecturer, late.Booking);
        var parties = new RecordingParties(late.Booking, late.Lecturer, string.Empty, new ErasedSubject(row.GetString("ErasedStudentSubjectRef")!, row.GetString("ErasedStudentErasureId")!));
        var meeting = $"uuid-{late.MeetingId}==";
        var zoomRequestsBefore = fixture.Sandbox.Zoom.Requests.Count;

        // A fresh download token would let the recording be fetched again: not a follow-up of the erasure.
        await Assert.ThrowsAsync<DisclosureRefusedException>(() => services.GetRequiredService<RecordingDisclosures>().DiscloseAsync(
            DisclosurePolicy.PurposeIds.ZoomRecordingCleanup, "look-up", parties, ["path:meetingId", "query:include_fields", "query:ttl"], null, "test-lookup",
            context => services.GetRequiredService<ZoomRecordingsClient>().GetDownloadAsync(meeting, TimeSpan.FromMinutes(5), context), _ => null));

        Assert.DoesNotContain(fixture.Sandbox.Zoom.Requests.Skip(zoomRequestsBefore), r => r.IsApi);
        Assert.Equal(late.StudentRowsBefore, (await services.GetRequiredService<DisclosureLedger>().ReadChainAsync(late.SubjectRef)).Count);
    }

    [Fact]
    public async Task MeetingEnded_AfterTheStudentsErasure_RecreatesNoMeetingMappingOrDisclosure()
    {
        await using var services = RecordingScenario.Services(fixture, new CapturedLogs());
        var late = await EraseStudentAfterTheLessonAsync(services);
        var zoomRequestsBefore = fixture.Sandbox.Zoom.Requests.Count;
        var ledgerRowsBefore = await LedgerRowCountAsync();

        var result = await late.Scenario.HandleAsync(await DeliverSignedAsync(services, fixture.Sandbox.Zoom.MeetingEndedBody(late.MeetingId, ZoomSimulator.DefaultHostUserId)));

        Assert.Null(result);
        Assert.Empty(fixture.Sandbox.Zoom.Requests.Skip(zoomRequestsBefore));
        Assert.Null(await services.GetRequiredService<SubjectRegistry>().FindAsync(late.Student));
        Assert.Equal(ledgerRowsBefore, await LedgerRowCountAsync());
        var row = await late.Scenario.RowAsync(late.Lecturer, late.Booking);
        Assert.Equal((string.Empty, true), (row.GetString("StudentId"), row.GetBoolean("ZoomDeleted")));
    }

    private sealed record LateLesson(RecordingScenario Scenario, string Lecturer, string Student, string Booking, long MeetingId, string SubjectRef, int StudentRowsBefore, string ErasureCorrelationId);

    /// <summary>A lesson held with cloud recording whose student is erased before Zoom has finished the recording.</summary>
    private async Task<LateLesson> EraseStudentAfterTheLessonAsync(ServiceProvider services)
    {
        var scenario = new RecordingScenario(fixture, services);
        var (lecturer, student, booking) = (RecordingScenario.NewId("lec"), RecordingScenario.NewId("stu"), RecordingScenario.NewId("bk"));
        var meetingId = await scenario.BookAsync(lecturer, student, booking);
        var subjectRef = (await services.GetRequiredService<SubjectRegistry>().FindAsync(student))!;
        var receipt = await services.GetRequiredService<MemberErasure>().EraseAsync(student, "era_before_recording");
        Assert.True(receipt.IsCompleted, receipt.ToJson());
        var rows = (await services.GetRequiredService<DisclosureLedger>().ReadChainAsync(subjectRef)).Count;
        return new LateLesson(scenario, lecturer, student, booking, meetingId, subjectRef, rows, services.GetRequiredService<MemberKeys>().ErasureCorrelationId(student));
    }

    /// <summary>Zoom's signed webhook through our front door; returns the minimised message it put on <c>zoom-events</c>.</summary>
    private async Task<string> DeliverSignedAsync(ServiceProvider services, string body)
    {
        var queue = fixture.Storage.Queue(QueueNames.ZoomEvents);
        await queue.ClearMessagesAsync();
        var signed = fixture.Sandbox.Zoom.SignWebhook(body);
        var accepted = await services.GetRequiredService<ZoomWebhookHandler>().HandleAsync(Encoding.UTF8.GetBytes(signed.Body), signed.Timestamp, signed.Signature);
        Assert.Equal(ZoomWebhookOutcome.Enqueued, accepted.Outcome);
        var message = Assert.Single((await queue.ReceiveMessagesAsync(maxMessages: 32)).Value);
        return message.Body.ToString();
    }

    private async Task<int> LedgerRowCountAsync()
    {
        var count = 0;
        await foreach (var _ in fixture.Storage.Table(TableNames.DisclosureLedger).QueryAsync<TableEntity>(select: ["PartitionKey"]))
        {
            count++;
        }

        return count;
    }
}
