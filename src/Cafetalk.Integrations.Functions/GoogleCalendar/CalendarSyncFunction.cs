using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Functions.GoogleCalendar;

/// <summary>Timer (<c>%CalendarSyncSchedule%</c>, nightly): restores hand-made changes in every connected lecturer's calendar and converges bookings whose converge message was lost.</summary>
public sealed class CalendarSyncFunction(CalendarNightlySync sync, ILogger<CalendarSyncFunction> logger)
{
    [Function(nameof(CalendarSyncFunction))]
    public async Task Run([TimerTrigger("%" + GoogleCalendarOptions.SyncScheduleSetting + "%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var report = await sync.RunAsync(cancellationToken);
        logger.LogInformation("Calendar sync done: {Lecturers} lecturer(s), {Restored} event(s) restored, {Repaired} lagging booking(s) converged", report.Lecturers, report.Restored, report.Repaired);
    }
}
