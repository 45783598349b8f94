namespace Cafetalk.Integrations.Functions.GoogleCalendar;

/// <summary>Queue trigger on <c>calendar-changes</c>: runs the incremental sync of one calendar Google said changed.</summary>
public sealed class CalendarChangesFunction(CalendarChangeSync sync)
{
    [Function(nameof(CalendarChangesFunction))]
    public Task Run([QueueTrigger(QueueNames.CalendarChanges, Connection = StorageAccount.SettingName)] string message, FunctionContext context, CancellationToken cancellationToken) =>
        sync.HandleAsync(message, context.QueueMessageId(), cancellationToken);
}
