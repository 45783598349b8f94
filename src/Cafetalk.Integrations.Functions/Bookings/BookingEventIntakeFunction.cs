using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Storage;
using Microsoft.Azure.Functions.Worker;

namespace Cafetalk.Integrations.Functions.Bookings;

/// <summary>Queue trigger on <c>booking-events</c>: hands each message to the core intake.</summary>
public sealed class BookingEventIntakeFunction(BookingEventIntake intake)
{
    [Function(nameof(BookingEventIntakeFunction))]
    public async Task Run(
        [QueueTrigger(QueueNames.BookingEvents, Connection = StorageAccount.SettingName)] string message,
        FunctionContext context,
        CancellationToken cancellationToken) =>
        await intake.ProcessAsync(message, context.QueueMessageId(), cancellationToken);
}
