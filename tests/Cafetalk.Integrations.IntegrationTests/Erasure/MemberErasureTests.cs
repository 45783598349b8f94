using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Erasure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cafetalk.Integrations.IntegrationTests.Erasure;

/// <summary>Erasure against Azurite and the simulators: what is left at each provider, in the ledger and on the receipt.</summary>
public sealed class MemberErasureTests(ServedSandboxFixture fixture) : IClassFixture<ServedSandboxFixture>
{
    private static readonly DateTimeOffset Lesson = TimeProvider.System.GetUtcNow().AddDays(6);
    private IServiceProvider Services => fixture.Services;

    /// <summary>A student with two lessons (meetings created) and a newsletter subscription.</summary>
    private async Task<(string Student, string Email, string[] Bookings)> StudentWithHistoryAsync()
    {
        var student = $"stu_era_{Guid.NewGuid():N}"[..24];
        var email = $"{student}@example.jp";
        string[] bookings = [$"bk_{student}_1", $"bk_{student}_2"];
        foreach (var booking in bookings)
        {
            await Services.GetRequiredService<BookingEventIntake>().ProcessAsync(
                SampleEvents.Booking(EventTypes.BookingConfirmed, booking, 1, Lesson, lecturerId: "lec_era", studentId: student), null);
            Assert.Equal(MeetingConvergence.Created, (await Services.GetRequiredService<MeetingConverger>().ConvergeAsync("lec_era", booking)).Outcome);
        }

        await Services.GetRequiredService<NewsletterSubscriptions>().HandleEventAsync(SampleEvents.NewsletterSubscribed(student, email), null);
        return (student, email, bookings);
    }

    private List<Cafetalk.Integrations.Sandbox.Zoom.SimulatedMeeting> LiveMeetingsOf(string[] bookings)
    {
        var references = bookings.Select(Services.GetRequiredService<ZoomBookingReference>().For).ToHashSet();
        return [.. fixture.Sandbox.Zoom.Meetings.Where(m => references.Contains(m.Body["agenda"]?.GetValue<string>() ?? string.Empty))];
    }

    [Fact]
    public async Task Erase_RemovesTheMeetingsAndSubscription_KeepsTheSuppression_AndUnlinksTheLedger()
    {
        var (student, email, bookings) = await StudentWithHistoryAsync();
        Assert.Equal(2, LiveMeetingsOf(bookings).Count);
        var subjectRef = (await Services.GetRequiredService<SubjectRegistry>().FindAsync(student))!;
        Assert.NotEmpty(await Services.GetRequiredService<DisclosureExport>().ForMemberAsync(student));

        var receipt = await Services.GetRequiredService<MemberErasure>().EraseAsync(student, "era_test_1");

        Assert.True(receipt.IsCompleted);
        Assert.Empty(LiveMeetingsOf(bookings));
        Assert.Equal(2, receipt.Steps.Single(s => s.Provider == "zoom").Items);
        Assert.Contains(email, fixture.Sandbox.Mail.Suppressed(SandboxEnvironment.NewsletterGroupId));
        Assert.Empty(await Services.GetRequiredService<NewsletterSubscriptionStore>().ListForSubjectAsync(subjectRef));
        Assert.Null(await Services.GetRequiredService<SubjectRegistry>().FindAsync(student));
        Assert.Empty(await Services.GetRequiredService<DisclosureExport>().ForMemberAsync(student));
        // The rows stay for their legal retention, still verifiable, no longer linked to the member.
        Assert.NotEmpty(await Services.GetRequiredService<DisclosureLedger>().ReadChainAsync(subjectRef));
        var verification = await Services.GetRequiredService<LedgerVerifier>().VerifyAsync();
        Assert.True(verification.IsIntact, string.Join("; ", verification.Findings));
        Assert.DoesNotContain(student, receipt.ToJson(), StringComparison.Ordinal);
        Assert.DoesNotContain(email, receipt.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Erase_ThenRetentionPurgeThreeYearsLater_RemovesTheUnlinkedRows_AndTheLedgerVerifiesAfterEach()
    {
        var (student, _, _) = await StudentWithHistoryAsync();
        var subjectRef = (await Services.GetRequiredService<SubjectRegistry>().FindAsync(student))!;
        await Services.GetRequiredService<MemberErasure>().EraseAsync(student, "era_then_purge");
        var afterErasure = await Services.GetRequiredService<LedgerVerifier>().VerifyAsync();
        Assert.True(afterErasure.IsIntact, string.Join("; ", afterErasure.Findings));
        var later = new FakeTimeProvider(TimeProvider.System.GetUtcNow().AddYears(DisclosureLedger.RetentionYears).AddDays(2));

        var purge = await new LedgerRetention(fixture.Storage, later, LogCapture.Logger<LedgerRetention>()).PurgeAsync();

        Assert.Empty(purge.Skipped);
        Assert.Empty(await Services.GetRequiredService<DisclosureLedger>().ReadChainAsync(subjectRef));
        var afterPurge = await new LedgerVerifier(fixture.Storage, new LedgerDigests(fixture.Storage, later), later).VerifyAsync();
        Assert.True(afterPurge.IsIntact, string.Join("; ", afterPurge.Findings));
    }

    [Fact]
    public async Task Erase_Twice_IsANoOpReturningTheSameReceipt()
    {
        var (student, _, _) = await StudentWithHistoryAsync();
        var erasure = Services.GetRequiredService<MemberErasure>();
        var first = await erasure.EraseAsync(student, "era_twice");
        var requestsBefore = fixture.Sandbox.Zoom.Requests.Count + fixture.Sandbox.Mail.Requests.Count;

        var second = await erasure.EraseAsync(student, "era_twice_again");

        Assert.Equal(first.ToJson(), second.ToJson());
        Assert.Equal(requestsBefore, fixture.Sandbox.Zoom.Requests.Count + fixture.Sandbox.Mail.Requests.Count);
    }

    [Fact]
    public async Task Erase_WhileTheMailServiceIsDown_StaysPending_ThenCompletesOnRetry()
    {
        var (student, email, bookings) = await StudentWithHistoryAsync();
        var erasure = Services.GetRequiredService<MemberErasure>();
        fixture.Sandbox.Mail.FailNext(1000);
        try
        {
            await Assert.ThrowsAsync<ErasureIncompleteException>(() => erasure.EraseAsync(student, "era_down"));
            var pending = (await Services.GetRequiredService<ErasureReceipts>().FindAsync(student))!;
            Assert.Equal(ErasureReceipt.Pending, pending.Status);
            Assert.Equal(ErasureStep.Failed, pending.Steps.Single(s => s.Provider == "mail").Outcome);
            // Never unlinked while something remains.
            Assert.NotNull(await Services.GetRequiredService<SubjectRegistry>().FindAsync(student));
        }
        finally
        {
            fixture.Sandbox.Mail.FailNext(0);
        }

        var completed = await erasure.RetryPendingAsync();

        Assert.True(completed >= 1);
        Assert.True((await Services.GetRequiredService<ErasureReceipts>().FindAsync(student))!.IsCompleted);
        Assert.Contains(email, fixture.Sandbox.Mail.Suppressed(SandboxEnvironment.NewsletterGroupId));
        Assert.Empty(LiveMeetingsOf(bookings));
        Assert.Null(await Services.GetRequiredService<SubjectRegistry>().FindAsync(student));
    }

    [Fact]
    public async Task AfterErasure_ANewerEventForTheBooking_NeverRecreatesTheMeeting()
    {
        var (student, _, bookings) = await StudentWithHistoryAsync();
        await Services.GetRequiredService<MemberErasure>().EraseAsync(student, "era_late_event");
        var createsBefore = fixture.Sandbox.Zoom.Requests.Count(r => r.IsCreate);

        await Services.GetRequiredService<BookingEventIntake>().ProcessAsync(
            SampleEvents.Booking(EventTypes.BookingRescheduled, bookings[0], 2, Lesson.AddHours(1), lecturerId: "lec_era", studentId: student), null);
        await Services.GetRequiredService<MeetingConverger>().ConvergeAsync("lec_era", bookings[0]);

        Assert.Equal(createsBefore, fixture.Sandbox.Zoom.Requests.Count(r => r.IsCreate));
        Assert.Empty(LiveMeetingsOf(bookings));
    }

    [Fact]
    public async Task DisclosuresRoute_NeedsTheFunctionKey_AndAnswersJsonAndJapaneseCsv()
    {
        var (student, _, _) = await StudentWithHistoryAsync();
        using var http = fixture.CreateClient();
        var url = $"api/members/{student}/disclosures";

        using var anonymous = await http.GetAsync(url);
        // The privacy office's own key rides on every request below (PrivacyOfficeRouteTests covers it alone).
        http.DefaultRequestHeaders.Add(PrivacyOfficeCredential.HeaderName, fixture.Sandbox.Settings()["PrivacyOffice:ApiKey"]);
        using var json = await http.GetAsync($"{url}?code={fixture.Server.FunctionKey}");
        using var csv = await http.GetAsync($"{url}?format=csv&lang=ja&code={fixture.Server.FunctionKey}");
        using var bad = await http.GetAsync($"{url}?format=xml&code={fixture.Server.FunctionKey}");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        var disclosures = JsonDocument.Parse(await json.Content.ReadAsStringAsync()).RootElement.GetProperty("disclosures");
        Assert.Contains(disclosures.EnumerateArray(), d => d.GetProperty("recipient").GetString() == "Zoom Video Communications, Inc.");
        Assert.Contains(disclosures.EnumerateArray(), d => d.GetProperty("country").GetString() == "United States");
        var csvText = await csv.Content.ReadAsStringAsync();
        Assert.StartsWith("提供日時(UTC),提供先,提供先の国,提供した項目,利用目的", csvText.TrimStart('\uFEFF'), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ErasureRequestedEvent_ThroughIntakeAndTheQueueFunction_ErasesTheMember()
    {
        var (student, _, bookings) = await StudentWithHistoryAsync();
        await Services.GetRequiredService<BookingEventIntake>().ProcessAsync(SampleEvents.ErasureRequested(student), null);
        var queue = fixture.Storage.Queue(QueueNames.ErasureRequests);
        var message = (await queue.ReceiveMessagesAsync(32)).Value.Single(m => m.Body.ToString().Contains(student, StringComparison.Ordinal));

        var receipt = await Services.GetRequiredService<ErasureRequests>().HandleAsync(message.Body.ToString(), message.MessageId);

        Assert.True(receipt!.IsCompleted);
        Assert.Equal($"era_{student}", receipt.RequestId);
        Assert.Empty(LiveMeetingsOf(bookings));
        var row = (await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>("lec_era", bookings[0])).Value;
        Assert.NotNull(row.GetDateTimeOffset("ErasedAtUtc"));
    }
}
