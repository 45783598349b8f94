using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;
using Microsoft.Azure.Functions.Worker;

namespace Cafetalk.Integrations.Functions.Zoom;

/// <summary>Queue trigger on <c>zoom-converge</c>: makes one booking's Zoom meeting match its desired state.</summary>
public sealed class ZoomConvergeFunction(ZoomConvergeHandler handler)
{
    [Function(nameof(ZoomConvergeFunction))]
    public async Task Run(
        [QueueTrigger(QueueNames.ZoomConverge, Connection = StorageAccount.SettingName)] string message,
        FunctionContext context,
        CancellationToken cancellationToken) =>
        await handler.HandleAsync(message, context.QueueMessageId(), cancellationToken);
}

/// <summary>Queue trigger on <c>zoom-meeting-changes</c>: a meeting of ours deleted or moved in Zoom is put back.</summary>
public sealed class ZoomMeetingChangedFunction(ZoomMeetingChanges changes)
{
    [Function(nameof(ZoomMeetingChangedFunction))]
    public async Task Run(
        [QueueTrigger(QueueNames.ZoomMeetingChanges, Connection = StorageAccount.SettingName)] string message,
        FunctionContext context,
        CancellationToken cancellationToken) =>
        await changes.HandleAsync(message, context.QueueMessageId(), cancellationToken);
}

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
