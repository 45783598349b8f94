using Cafetalk.Integrations.Bookings;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Zoom;

/// <summary>What one repair pass over the upcoming bookings did.</summary>
public sealed record ZoomRepairReport(int Checked, int Repaired, int Deferred, int Failed);

/// <summary>
/// Re-runs the meeting converger over every upcoming booking, so a converge message that was lost or poisoned does
/// not leave Zoom behind for ever. A booking whose meeting matches costs one point read and no Zoom request; one
/// whose converge fails is logged, counted and left for the next run, so it never stops the rest of the pass.
/// </summary>
public sealed class ZoomDriftRepair(BookingStateStore bookings, MeetingConverger meetings, TimeProvider time, ILogger<ZoomDriftRepair> logger)
{
    public async Task<ZoomRepairReport> RunAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var correlationId = $"zoom-repair-{now:yyyyMMdd}";
        int checkedRows = 0, repaired = 0, deferred = 0, failed = 0;
        await foreach (var booking in bookings.ListAsync(cancellationToken))
        {
            if (booking.StartsAtUtc < now)
            {
                continue; // a lesson that has started: its meeting is no longer ours to move
            }

            checkedRows++;
            try
            {
                var result = await meetings.ConvergeAsync(booking.LecturerId, booking.BookingId, correlationId, cancellationToken);
                repaired += result.Outcome is MeetingConvergence.Created or MeetingConvergence.Updated or MeetingConvergence.Deleted ? 1 : 0;
                deferred += result.Outcome == MeetingConvergence.Deferred ? 1 : 0;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                failed++;
                // The type only: a provider's message is not ours to vouch for in a log line.
                logger.LogWarning("Zoom repair of booking {BookingId} failed ({Error}); the next run tries again", booking.BookingId, ex.GetType().Name);
            }
        }

        logger.LogInformation("Zoom repair: {Checked} upcoming bookings checked, {Repaired} repaired, {Deferred} held by another converger, {Failed} failed",
            checkedRows, repaired, deferred, failed);
        return new ZoomRepairReport(checkedRows, repaired, deferred, failed);
    }
}
