using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>
/// Runs the event converger for one <c>calendar-converge</c> message. A lecturer who is not connected or whose grant
/// was revoked ends the message at once (never retried); other failures throw so the host retries them.
/// </summary>
public sealed class CalendarConvergeHandler(CalendarEventConverger converger, QueueMessageRunner runner)
{
    public Task<EventConvergeResult?> HandleAsync(string message, string? messageId, CancellationToken cancellationToken = default) =>
        runner.RunAsync<ConvergeRequest, EventConvergeResult?>(QueueNames.CalendarConverge, message, messageId, ConvergeRequest.Read, ConvergeAsync, cancellationToken: cancellationToken);

    private async Task<EventConvergeResult?> ConvergeAsync(QueueMessage<ConvergeRequest> message, CancellationToken cancellationToken)
    {
        var result = await converger.ConvergeAsync(message.Value, message.CorrelationId, cancellationToken);
        if (result is { Outcome: EventConvergence.AwaitingJoinLink or EventConvergence.InsertInProgress, RetryAtUtc: { } retryAt })
        {
            // Not lost if Zoom never delivers or the claimer crashed: this copy comes back and looks again.
            await message.RetryAtAsync(retryAt, cancellationToken);
        }

        return result;
    }
}
