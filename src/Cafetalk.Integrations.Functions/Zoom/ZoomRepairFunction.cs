namespace Cafetalk.Integrations.Functions.Zoom;

/// <summary>
/// Timer (<c>%ZoomRepairSchedule%</c>, nightly): re-converges every upcoming booking's meeting, so one whose converge
/// message was lost or poisoned is repaired by morning; a meeting that matches costs no Zoom request. Then it sends
/// every site notification a stopped worker left marked on a booking row (<see cref="SiteOutbox"/>): the nightly
/// outbox sweep rides this timer, as no other nightly pass converges every booking.
/// </summary>
public sealed class ZoomRepairFunction(ZoomDriftRepair repair, SiteOutbox outbox)
{
    [Function(nameof(ZoomRepairFunction))]
    public async Task Run([TimerTrigger("%" + ZoomOptions.RepairScheduleSetting + "%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        await repair.RunAsync(cancellationToken);
        await outbox.SendAllPendingAsync(cancellationToken);
    }
}
