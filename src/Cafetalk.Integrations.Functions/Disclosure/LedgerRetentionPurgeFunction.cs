using Cafetalk.Integrations.Disclosure;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Functions.Disclosure;

/// <summary>
/// Timer (<c>%LedgerRetentionSchedule%</c>, nightly): deletes ledger rows past their 3-year retention and re-anchors
/// each chain, then destroys the erased members' tombstones and sealed mappings whose records have all gone.
/// </summary>
public sealed class LedgerRetentionPurgeFunction(LedgerRetention retention, SubjectRegistry subjects, ILogger<LedgerRetentionPurgeFunction> logger)
{
    [Function("LedgerRetentionPurge")]
    public async Task Run([TimerTrigger("%LedgerRetentionSchedule%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var result = await retention.PurgeAsync(cancellationToken: cancellationToken);
        logger.LogInformation("Ledger retention purge removed {Rows} rows from {ChainsPurged} of {Chains} chains; {Skipped} chains skipped",
            result.RowsPurged, result.ChainsPurged, result.Chains, result.Skipped.Count);
        var sealedMappings = await subjects.PurgeExpiredTombstonesAsync(cancellationToken);
        logger.LogInformation("Retention purge destroyed {Tombstones} erased members' tombstones and sealed mappings", sealedMappings);
    }
}
