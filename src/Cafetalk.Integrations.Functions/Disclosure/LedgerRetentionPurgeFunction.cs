using Cafetalk.Integrations.Disclosure;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Functions.Disclosure;

/// <summary>Timer (<c>%LedgerRetentionSchedule%</c>, nightly): deletes ledger rows past their 3-year retention and re-anchors each chain.</summary>
public sealed class LedgerRetentionPurgeFunction(LedgerRetention retention, ILogger<LedgerRetentionPurgeFunction> logger)
{
    [Function("LedgerRetentionPurge")]
    public async Task Run([TimerTrigger("%LedgerRetentionSchedule%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var result = await retention.PurgeAsync(cancellationToken: cancellationToken);
        logger.LogInformation("Ledger retention purge removed {Rows} rows from {ChainsPurged} of {Chains} chains; {Skipped} chains skipped",
            result.RowsPurged, result.ChainsPurged, result.Chains, result.Skipped.Count);
    }
}
