using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Erasure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.IntegrationTests.Vimeo;
using Cafetalk.Integrations.Vimeo;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Erasure;

/// <summary>
/// Zoom finishes a recording after the student was erased: its signed recording.completed brings nothing of theirs
/// back (no pseudonym, no ledger row, no upload). Known gap, not asserted here: the erasure marked the booking's Zoom
/// copy as handled before this recording existed, so the archiver answers AlreadyDone and Zoom's copy stays until
/// Zoom's own retention (docs/privacy.md).
/// </summary>
public sealed class ErasureLateWebhookTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task RecordingCompleted_AfterTheStudentsErasure_RecreatesNoMappingOrDisclosure_AndUploadsNothing()
    {
        var logs = new CapturedLogs();
        await using var services = RecordingScenario.Services(fixture, logs);
        var scenario = new RecordingScenario(fixture, services);
        var (lecturer, student, booking) = (RecordingScenario.NewId("lec"), RecordingScenario.NewId("stu"), RecordingScenario.NewId("bk"));
        var meetingId = await scenario.BookAsync(lecturer, student, booking);
        var subjects = services.GetRequiredService<SubjectRegistry>();
        var subjectRef = (await subjects.FindAsync(student))!;
        var receipt = await services.GetRequiredService<MemberErasure>().EraseAsync(student, "era_before_recording");
        Assert.True(receipt.IsCompleted, receipt.ToJson());
        var studentRowsBefore = (await services.GetRequiredService<DisclosureLedger>().ReadChainAsync(subjectRef)).Count;
        // Zoom makes the recording only now, after the erasure.
        var message = scenario.RecordingCompleted(meetingId);

        var result = await scenario.HandleAsync(message);

        Assert.NotEqual(RecordingOutcome.Archived, result!.Outcome);
        Assert.DoesNotContain(fixture.Sandbox.Vimeo.Videos, v => v.Body["description"]?.GetValue<string>() == scenario.BookingReference(booking));
        Assert.Null(await subjects.FindAsync(student));
        Assert.Equal(studentRowsBefore, (await services.GetRequiredService<DisclosureLedger>().ReadChainAsync(subjectRef)).Count);
    }
}
