using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Erasure;
using Cafetalk.Integrations.IntegrationTests.GoogleCalendar;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.IntegrationTests.Recordings;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Vimeo;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Erasure;

/// <summary>A lecturer who used every provider asks for erasure: afterwards nothing of theirs is left at any simulator.</summary>
public sealed class ErasureAcrossProvidersTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task EraseLecturer_LeavesNothingAtZoomGoogleVimeoOrTheMailService_AndTheLedgerStillVerifies()
    {
        await using var harness = await CalendarHarness.StartAsync(fixture);
        var logs = new CapturedLogs();
        await using var services = RecordingScenario.Services(fixture, logs);
        var scenario = new RecordingScenario(fixture, services);
        var (lecturer, student, booking) = (RecordingScenario.NewId("lec"), RecordingScenario.NewId("stu"), RecordingScenario.NewId("bk"));
        var email = $"{lecturer}@example.de";

        // The lecturer connects Google, teaches a recorded lesson, and reads the newsletter.
        var (connected, _) = await harness.ConnectAsync(lecturer);
        Assert.True(connected.IsSuccessStatusCode);
        var meetingId = await scenario.BookAsync(lecturer, student, booking);
        await harness.DrainCalendarQueueAsync();
        var archived = await scenario.HandleAsync(scenario.RecordingCompleted(meetingId));
        Assert.NotNull(archived);
        await services.GetRequiredService<NewsletterSubscriptions>().HandleEventAsync(SampleEvents.NewsletterSubscribed(lecturer, email), null);
        // This class has its own Sandbox: the one calendar is the lecturer's.
        var calendar = Assert.Single(fixture.Sandbox.Google.Calendars);
        Assert.Single(fixture.Sandbox.Google.EventsOf(calendar.Id), e => !e.Cancelled);
        Assert.Single(fixture.Sandbox.Vimeo.Videos, v => v.Body["description"]?.GetValue<string>() == scenario.BookingReference(booking));
        Assert.Contains(fixture.Sandbox.Vimeo.Folders, f => f.Name == scenario.LecturerReference(lecturer));
        var subjectRef = (await services.GetRequiredService<SubjectRegistry>().FindAsync(lecturer))!;

        var receipt = await harness.Services.GetRequiredService<MemberErasure>().EraseAsync(lecturer, "era_all_providers");

        Assert.True(receipt.IsCompleted, receipt.ToJson());
        Assert.Equal(["bookings", "zoom", "google", "vimeo", "mail", "storage", "poison", "booking-rows", "ledger"], receipt.Steps.Select(s => s.Provider));
        Assert.All(receipt.Steps, s => Assert.Equal(ErasureStep.Done, s.Outcome));
        // Zoom: no meeting of the booking.
        var reference = services.GetRequiredService<ZoomBookingReference>().For(booking);
        Assert.DoesNotContain(fixture.Sandbox.Zoom.Meetings, m => m.Body["agenda"]?.GetValue<string>() == reference);
        // Google: the Cafetalk calendar is gone and the grant revoked (a refresh is refused).
        Assert.DoesNotContain(fixture.Sandbox.Google.Calendars, c => c.Id == calendar.Id);
        Assert.Contains(fixture.Sandbox.Google.Requests, r => r.Path == "/revoke" && r.Status == 200);
        // Vimeo: no video, no folder.
        Assert.DoesNotContain(fixture.Sandbox.Vimeo.Videos, v => v.Body["description"]?.GetValue<string>() == scenario.BookingReference(booking));
        Assert.DoesNotContain(fixture.Sandbox.Vimeo.Folders, f => f.Name == scenario.LecturerReference(lecturer));
        // Mail: only the suppression the law requires; our subscription is gone.
        Assert.Contains(email, fixture.Sandbox.Mail.Suppressed(SandboxEnvironment.NewsletterGroupId));
        Assert.Empty(await services.GetRequiredService<NewsletterSubscriptionStore>().ListForSubjectAsync(subjectRef));
        // Ledger: unlinked, kept, verifiable.
        Assert.Null(await services.GetRequiredService<SubjectRegistry>().FindAsync(lecturer));
        Assert.Empty(await services.GetRequiredService<DisclosureExport>().ForMemberAsync(lecturer));
        Assert.NotEmpty(await services.GetRequiredService<DisclosureLedger>().ReadChainAsync(subjectRef));
        var verification = await services.GetRequiredService<LedgerVerifier>().VerifyAsync();
        Assert.True(verification.IsIntact, string.Join("; ", verification.Findings));
    }
}
