namespace Cafetalk.Integrations.Functions.Zoom;

/// <summary>
/// Timer (<c>%ZoomRepairSchedule%</c>, nightly): re-converges every upcoming booking's meeting, so one whose converge
/// message was lost or poisoned is repaired by morning; a meeting that matches costs no Zoom request.
/// </summary>
public sealed class ZoomRepairFunction(ZoomDriftRepair repair)
{
    [Function(nameof(ZoomRepairFunction))]
    public async Task Run([TimerTrigger("%" + ZoomOptions.RepairScheduleSetting + "%")] TimerInfo timer, CancellationToken cancellationToken) =>
        await repair.RunAsync(cancellationToken);
}
