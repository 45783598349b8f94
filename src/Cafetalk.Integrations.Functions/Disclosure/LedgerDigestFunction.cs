using Cafetalk.Integrations.Disclosure;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Functions.Disclosure;

/// <summary>
/// Timer (<c>%LedgerDigestSchedule%</c>, daily): closes intents a stopped worker left in doubt (as Failed), then
/// appends the digest of every ledger chain head.
/// </summary>
public sealed class LedgerDigestFunction(LedgerDigests digests, DisclosureLedger ledger, IOptions<DisclosureLedgerOptions> options, ILogger<LedgerDigestFunction> logger)
{
    [Function(nameof(LedgerDigestFunction))]
    public async Task Run([TimerTrigger("%LedgerDigestSchedule%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var closed = await ledger.CloseInDoubtAsync(options.Value.InDoubtAfter, cancellationToken);
        var digest = await digests.WriteAsync(cancellationToken);
        logger.LogInformation("Ledger digest {Digest} written over {Chains} chains; {Closed} in-doubt intent(s) closed", digest.Digest, digest.Chains, closed);
    }
}
