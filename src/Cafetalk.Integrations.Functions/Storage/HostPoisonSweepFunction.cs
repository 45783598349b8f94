namespace Cafetalk.Integrations.Functions.Storage;

/// <summary>
/// Timer (<c>%HostPoisonSweepSchedule%</c>, every 5 minutes): what the host poisoned whole after its last retry is cut
/// down to the contract's fields, given a time-to-live, and its raw copy deleted.
/// </summary>
public sealed class HostPoisonSweepFunction(HostPoisonSweeper sweeper)
{
    [Function(nameof(HostPoisonSweepFunction))]
    public async Task Run([TimerTrigger("%HostPoisonSweepSchedule%")] TimerInfo timer, CancellationToken cancellationToken) =>
        await sweeper.SweepAsync(cancellationToken);
}
