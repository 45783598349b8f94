namespace Cafetalk.Integrations.Functions.GoogleCalendar;

/// <summary>Queue trigger on <c>calendar-converge</c>: makes one booking's calendar event match its desired state.</summary>
public sealed class CalendarConvergeFunction(CalendarConvergeHandler handler)
{
    [Function(nameof(CalendarConvergeFunction))]
    public Task Run([QueueTrigger(QueueNames.CalendarConverge, Connection = StorageAccount.SettingName)] string message, FunctionContext context, CancellationToken cancellationToken) =>
        handler.HandleAsync(message, context.QueueMessageId(), cancellationToken);
}
