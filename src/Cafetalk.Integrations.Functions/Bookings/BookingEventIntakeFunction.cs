namespace Cafetalk.Integrations.Functions.Bookings;

/// <summary>Queue trigger on <c>booking-events</c>: hands each message to the core intake.</summary>
public sealed class BookingEventIntakeFunction(BookingEventIntake intake)
{
    [Function(nameof(BookingEventIntakeFunction))]
    public Task Run([QueueTrigger(QueueNames.BookingEvents, Connection = StorageAccount.SettingName)] string message, FunctionContext context, CancellationToken cancellationToken) =>
        intake.ProcessAsync(message, context.QueueMessageId(), cancellationToken);
}
