using Cafetalk.Integrations.Disclosure;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Functions.Disclosure;

/// <summary>Timer (<c>%LedgerDigestSchedule%</c>, daily): appends the digest of every ledger chain head.</summary>
public sealed class LedgerDigestFunction(LedgerDigests digests, ILogger<LedgerDigestFunction> logger)
{
    [Function(nameof(LedgerDigestFunction))]
    public async Task Run([TimerTrigger("%LedgerDigestSchedule%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var digest = await digests.WriteAsync(cancellationToken);
        logger.LogInformation("Ledger digest {Digest} written over {Chains} chains", digest.Digest, digest.Chains);
    }
}
