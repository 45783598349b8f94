namespace Cafetalk.Integrations.Functions.GoogleCalendar;

/// <summary>Timer (<c>%CalendarWatchSchedule%</c>, e.g. every 6 hours): opens missing watch channels and replaces those ending soon.</summary>
public sealed class CalendarWatchRenewalFunction(CalendarWatches watches)
{
    [Function(nameof(CalendarWatchRenewalFunction))]
    public Task Run([TimerTrigger("%" + GoogleCalendarOptions.WatchScheduleSetting + "%")] TimerInfo timer, CancellationToken cancellationToken) =>
        watches.RenewAsync(cancellationToken);
}
