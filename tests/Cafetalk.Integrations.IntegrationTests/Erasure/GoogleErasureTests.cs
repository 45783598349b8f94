using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Erasure;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.IntegrationTests.GoogleCalendar;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.IntegrationTests.Erasure;

/// <summary>
/// Erasure when Google cannot be reached: the lecturer revoked our access, or Google fails. The receipt stays pending
/// with the reason, an Error line the erasure-blocked alert fires on is logged, and a failed calendar delete is never
/// followed by a revocation (which would put the calendar out of reach for good).
/// </summary>
public sealed class GoogleErasureTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private readonly CapturedLogs _logs = new();
    private CalendarHarness _harness = null!;

    public async Task InitializeAsync()
    {
        _harness = await CalendarHarness.StartAsync(fixture, services =>
        {
            services.AddLogging(logging => logging.AddProvider(_logs));
            // No retries: a fault the test plants is the answer the code sees.
            services.Configure<GoogleCalendarOptions>(o => o.MaxRetryAttempts = 0);
        });
        await _harness.ClearQueuesAsync();
    }

    public async Task DisposeAsync()
    {
        _harness.Google.Faults.Disable();
        await _harness.DisposeAsync();
    }

    private CalendarConnections Connections => _harness.Services.GetRequiredService<CalendarConnections>();

    private MemberErasure Erasure => _harness.Services.GetRequiredService<MemberErasure>();

    [Fact]
    public async Task EraseLecturer_WhoseGrantIsRevoked_StaysPending_WithTheReasonOnTheReceipt_AndAnAlertWorthyError()
    {
        var (lecturer, calendarId) = await ConnectWithALessonAsync("lec_era_revoked", "bk_era_revoked", "stu_era_revoked");
        await Connections.MarkRevokedAsync((await Connections.FindAsync(lecturer))!, TimeProvider.System.GetUtcNow());
        _harness.Google.ClearRequests();

        var failure = await Record.ExceptionAsync(() => Erasure.EraseAsync(lecturer, "era_revoked"));

        Assert.IsType<ErasureIncompleteException>(failure);
        var receipt = (await _harness.Services.GetRequiredService<ErasureReceipts>().FindAsync(lecturer))!;
        Assert.Equal(ErasureReceipt.Pending, receipt.Status);
        var google = Assert.Single(receipt.Steps, s => s.Provider == "google");
        Assert.Equal(ErasureStep.Failed, google.Outcome);
        Assert.Contains("1 lesson event(s) left in a calendar whose Google grant is revoked", google.Detail, StringComparison.Ordinal);
        Assert.Contains("Google grant revoked: the Cafetalk calendar and its events stay in the lecturer's Google account", google.Detail, StringComparison.Ordinal);
        Assert.Contains(_logs.Lines, l => l.Contains(" Error: " + GoogleCalendarErasureStep.BlockedMessagePrefix, StringComparison.Ordinal));
        // What the receipt says is what Google holds: the calendar and its event are still there, and the row is kept for a later attempt.
        Assert.Single(_harness.Google.EventsOf(calendarId), e => !e.Cancelled);
        Assert.NotNull(await Connections.FindAsync(lecturer));
        Assert.DoesNotContain(_harness.Google.Requests, r => r.Path == "/revoke");
    }

    [Fact]
    public async Task EraseStudent_WhoseLecturersGrantIsRevoked_StaysPending_TheEventIsNotReportedDeleted()
    {
        var (lecturer, calendarId) = await ConnectWithALessonAsync("lec_era_student", "bk_era_student", "stu_era_student");
        await Connections.MarkRevokedAsync((await Connections.FindAsync(lecturer))!, TimeProvider.System.GetUtcNow());

        var failure = await Record.ExceptionAsync(() => Erasure.EraseAsync("stu_era_student", "era_student"));

        Assert.IsType<ErasureIncompleteException>(failure);
        var google = Assert.Single((await _harness.Services.GetRequiredService<ErasureReceipts>().FindAsync("stu_era_student"))!.Steps, s => s.Provider == "google");
        Assert.Equal((ErasureStep.Failed, "1 lesson event(s) left in a calendar whose Google grant is revoked"), (google.Outcome, google.Detail));
        Assert.Single(_harness.Google.EventsOf(calendarId), e => !e.Cancelled);
    }

    [Fact]
    public async Task EraseLecturer_CalendarDeleteFails_NoRevokeAndTheConnectionKept_ThenTheRetryCompletes()
    {
        var (lecturer, calendarId) = await ConnectWithALessonAsync("lec_era_fail", "bk_era_fail", "stu_era_fail");
        _harness.Google.ClearRequests();
        _harness.Google.Faults.Enable(3, 1.0, (method, path) => method == "DELETE" && path == $"/calendar/v3/calendars/{calendarId}");

        var failure = await Record.ExceptionAsync(() => Erasure.EraseAsync(lecturer, "era_fail"));

        Assert.IsType<ErasureIncompleteException>(failure);
        var google = Assert.Single((await _harness.Services.GetRequiredService<ErasureReceipts>().FindAsync(lecturer))!.Steps, s => s.Provider == "google");
        Assert.Equal(ErasureStep.Failed, google.Outcome);
        Assert.Contains("Cafetalk calendar not deleted: Google failed (calendars.delete answered HTTP 500); grant not revoked", google.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(_harness.Google.Requests, r => r.Path == "/revoke");
        Assert.Equal(ConnectionStatus.Connected, (await Connections.FindAsync(lecturer))!.Status);
        Assert.Contains(_harness.Google.Calendars, c => c.Id == calendarId);

        _harness.Google.Faults.Disable();
        var completed = await Erasure.RetryPendingAsync();

        Assert.True(completed >= 1);
        Assert.True((await _harness.Services.GetRequiredService<ErasureReceipts>().FindAsync(lecturer))!.IsCompleted);
        Assert.DoesNotContain(_harness.Google.Calendars, c => c.Id == calendarId);
        Assert.Single(_harness.Google.Requests, r => r.Path == "/revoke" && r.Status == 200);
        Assert.Null(await Connections.FindAsync(lecturer));
    }

    /// <summary>The lecturer connects and a lesson with the student reaches their calendar; returns the calendar id.</summary>
    private async Task<(string Lecturer, string CalendarId)> ConnectWithALessonAsync(string lecturer, string booking, string student)
    {
        var (connected, _) = await _harness.ConnectAsync(lecturer);
        Assert.True(connected.IsSuccessStatusCode);
        await _harness.IngestAsync(EventTypes.BookingConfirmed, booking, 1, TimeProvider.System.GetUtcNow().AddDays(4), lecturer, student);
        // Intake asks Zoom alone about a new booking; here the calendar converger runs as the Zoom converger's message would run it.
        await _harness.Services.GetRequiredService<CalendarEventConverger>().ConvergeAsync(lecturer, booking);
        var calendarId = (await Connections.FindAsync(lecturer))!.CalendarId;
        Assert.Single(_harness.Google.EventsOf(calendarId), e => !e.Cancelled);
        return (lecturer, calendarId);
    }
}
