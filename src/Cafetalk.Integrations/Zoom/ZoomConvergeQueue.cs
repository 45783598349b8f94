using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Zoom;

/// <summary>
/// Runs the meeting converger for one <c>zoom-converge</c> message. Work that must wait — a host's daily limit,
/// a booking another instance is creating — goes back on the queue, invisible until it may run; it is never
/// retried hot and never poisoned for it. Other failures throw so the host retries them.
/// </summary>
public sealed class ZoomConvergeHandler(MeetingConverger converger, QueueMessageRunner runner, ILogger<ZoomConvergeHandler> logger)
{
    public Task<MeetingConvergeResult?> HandleAsync(string message, string? messageId, CancellationToken cancellationToken = default) =>
        runner.RunAsync<ConvergeRequest, MeetingConvergeResult?>(QueueNames.ZoomConverge, message, messageId, ConvergeRequest.Read, ConvergeAsync, cancellationToken: cancellationToken);

    private async Task<MeetingConvergeResult?> ConvergeAsync(QueueMessage<ConvergeRequest> message, CancellationToken cancellationToken)
    {
        var request = message.Value;
        try
        {
            var result = await converger.ConvergeAsync(request, message.CorrelationId, cancellationToken);
            if (result is { Outcome: MeetingConvergence.Deferred, RetryAtUtc: { } retryAt })
            {
                await message.RetryAtAsync(retryAt, cancellationToken);
                logger.LogInformation("Booking {BookingId} is held by another converger; retrying at {RetryAtUtc:O}", request.BookingId, retryAt);
            }

            return result;
        }
        catch (ZoomDailyLimitReachedException ex)
        {
            await message.RetryAtAsync(ex.RetryAfterUtc, cancellationToken);
            logger.LogWarning("Zoom host {HostId} is at its daily limit; booking {BookingId} converges after {RetryAtUtc:O}", ex.HostId, request.BookingId, ex.RetryAfterUtc);
            await AskCalendarMeanwhileAsync(request, cancellationToken);
            return new MeetingConvergeResult(MeetingConvergence.Deferred, RetryAtUtc: ex.RetryAfterUtc);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Zoom's trouble must not hold the lecturer's calendar: it moves now, and again once the meeting converges.
            await AskCalendarMeanwhileAsync(request, cancellationToken);
            throw;
        }
    }

    private async Task AskCalendarMeanwhileAsync(ConvergeRequest request, CancellationToken cancellationToken)
    {
        if (request.AsksAfter(QueueNames.CalendarConverge))
        {
            await converger.AskCalendarAsync(request.LecturerId, request.BookingId, [], cancellationToken);
        }
    }
}
