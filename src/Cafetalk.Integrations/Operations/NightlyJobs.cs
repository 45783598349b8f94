using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Erasure;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Recordings;
using Cafetalk.Integrations.Vimeo;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Operations;

/// <summary>What one run of the nightly jobs did.</summary>
public sealed record NightlyReport(int ZoomBookingsChecked, int ZoomRepaired, int ZoomFailed, int CalendarLecturers, int CalendarRestored, int CalendarRepaired, int CalendarFailed, int RecordingsDeleted, SuppressionReconcileReport Newsletter, int ErasuresCompleted, int InDoubtDisclosuresClosed, int SiteNotificationsSent);

/// <summary>
/// Every nightly job in one pass, for operators (<c>sync</c>) and the demo; in Azure each also runs on its own
/// timer. The Zoom pass (<see cref="ZoomDriftRepair"/>) costs no request when a meeting already matches, and repairs
/// drift and in-doubt creates when it does not. Site notifications a stopped worker left marked on a booking row are
/// sent after the passes that converge (those send their own). Ledger intents a stopped worker left without an outcome are closed
/// last, after the passes that repair what those workers left undone.
/// </summary>
public sealed class NightlyJobs(
    ZoomDriftRepair zoom,
    CalendarNightlySync calendars,
    RecordingDeleter recordings,
    MailSuppressionSync newsletter,
    MemberErasure erasure,
    SiteOutbox outbox,
    LedgerDigests digests,
    DisclosureLedger ledger,
    IOptions<DisclosureLedgerOptions> ledgerOptions,
    TimeProvider time,
    ILogger<NightlyJobs> logger)
{
    public async Task<NightlyReport> RunAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var meetings = await zoom.RunAsync(cancellationToken);
        var calendar = await calendars.RunAsync(cancellationToken);
        var deleted = await recordings.SweepAsync($"nightly-{now:yyyyMMdd}", cancellationToken);
        var mail = await newsletter.ReconcileAsync(cancellationToken);
        var erased = await erasure.RetryPendingAsync(cancellationToken);
        var notified = await outbox.SendAllPendingAsync(cancellationToken);
        var closed = await ledger.CloseInDoubtAsync(ledgerOptions.Value.InDoubtAfter, cancellationToken);
        await digests.WriteAsync(cancellationToken);
        var report = new NightlyReport(meetings.Checked, meetings.Repaired, meetings.Failed, calendar.Lecturers, calendar.Restored, calendar.Repaired, calendar.Failed + calendar.RepairFailed, deleted, mail, erased, closed, notified);
        logger.LogInformation("Nightly jobs: {ZoomChecked} bookings checked, {ZoomRepaired} Zoom repairs, {ZoomFailed} Zoom repairs failed, {Lecturers} calendars synced ({CalendarRestored} events restored, {CalendarRepaired} lagging bookings converged, {CalendarFailed} failed), {Recordings} recordings deleted, {Erasures} erasures completed, {Notified} site notifications sent from the outbox, {InDoubt} in-doubt disclosures closed",
            report.ZoomBookingsChecked, report.ZoomRepaired, report.ZoomFailed, report.CalendarLecturers, report.CalendarRestored, report.CalendarRepaired, report.CalendarFailed, report.RecordingsDeleted, report.ErasuresCompleted, report.SiteNotificationsSent, report.InDoubtDisclosuresClosed);
        return report;
    }
}
