using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Zoom;

/// <summary>Every Zoom call that carries a member's data has its ledger rows: an intent before the wire, an outcome after.</summary>
public sealed class ZoomLedgerTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private static readonly DateTimeOffset Lesson = TimeProvider.System.GetUtcNow().AddDays(4);

    [Fact]
    public async Task ConfirmedBooking_LedgerHoldsIntentBeforeTheCreateAndOutcomeAfter_ForBothParties_FieldNamesOnly()
    {
        await using var services = fixture.CreateServices();
        var (lecturer, student, booking) = ("lec_ledger_1", "stu_ledger_1", "bk_ledger_1");
        var intake = services.GetRequiredService<BookingEventIntake>();
        var converger = services.GetRequiredService<MeetingConverger>();
        await intake.ProcessAsync(SampleEvents.Booking(EventTypes.BookingConfirmed, booking, 1, Lesson, lecturerId: lecturer, studentId: student), null);
        await converger.ConvergeAsync(lecturer, booking);
        var create = Assert.Single(fixture.Sandbox.Zoom.Requests, r => r.IsCreate);

        var subjects = services.GetRequiredService<SubjectRegistry>();
        var ledger = services.GetRequiredService<DisclosureLedger>();
        var lecturerChain = await ledger.ReadChainAsync((await subjects.FindAsync(lecturer))!);
        var studentChain = await ledger.ReadChainAsync((await subjects.FindAsync(student))!);

        Assert.Equal([DisclosureOutcome.Intended, DisclosureOutcome.Succeeded], lecturerChain.Select(e => e.Outcome));
        Assert.Equal([DisclosureOutcome.Intended, DisclosureOutcome.Succeeded], studentChain.Select(e => e.Outcome));
        Assert.True(lecturerChain[0].ProvidedAtUtc <= create.ReceivedAtUtc, "the intent must be on record before Zoom receives the request");
        Assert.Equal("Zoom Video Communications, Inc.", lecturerChain[0].RecipientLegalName);
        Assert.Contains("path:hostId", lecturerChain[0].DataItems);
        // The meeting's zone is always UTC, not the lecturer's: nothing of theirs to record.
        Assert.DoesNotContain("timezone", lecturerChain[0].DataItems);
        Assert.DoesNotContain("path:hostId", studentChain[0].DataItems);
        Assert.Contains("start_time", studentChain[0].DataItems);
        Assert.Equal(booking, studentChain[1].BookingId);
        Assert.False(string.IsNullOrEmpty(studentChain[1].ProviderObjectId));
        var everything = string.Join("|", lecturerChain.Concat(studentChain).Select(e => e.ToString()));
        Assert.DoesNotContain("Europe/Berlin", everything, StringComparison.Ordinal);
        Assert.All(SampleEvents.PlantedPersonalValues, v => Assert.DoesNotContain(v, everything, StringComparison.Ordinal));

        var verification = await services.GetRequiredService<LedgerVerifier>().VerifyAsync();
        Assert.True(verification.IsIntact, string.Join("; ", verification.Findings));
    }
}
