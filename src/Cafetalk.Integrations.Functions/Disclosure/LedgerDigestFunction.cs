using Cafetalk.Integrations.Disclosure;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Functions.Disclosure;

/// <summary>
/// Timer (<c>%LedgerDigestSchedule%</c>, every 15 minutes): closes intents a stopped worker left in doubt (as Failed),
/// verifies the whole ledger against every signed digest, then appends a signed digest of every chain head. Over a broken
/// chain it appends nothing, logs an error and fails the run, which the <c>ledger-digest-failed</c> alert fires on.
/// </summary>
public sealed class LedgerDigestFunction(LedgerDigests digests, LedgerVerifier verifier, DisclosureLedger ledger, IOptions<DisclosureLedgerOptions> options, ILogger<LedgerDigestFunction> logger)
{
    [Function(nameof(LedgerDigestFunction))]
    public async Task Run([TimerTrigger("%LedgerDigestSchedule%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var closed = await ledger.CloseInDoubtAsync(options.Value.InDoubtAfter, cancellationToken);
        var verification = await verifier.VerifyAsync(cancellationToken);
        foreach (var finding in verification.Findings)
        {
            logger.LogError("Ledger verification finding: {Finding}", finding.ToString());
        }

        if (verification.ChainFindings.Any())
        {
            logger.LogError("Ledger digest refused: {Findings} finding(s) in the ledger's chains; no digest written", verification.ChainFindings.Count());
            throw new LedgerBrokenException(verification);
        }

        var digest = await digests.WriteAsync(verification, cancellationToken);
        logger.LogInformation("Ledger digest {Digest} written over {Chains} chains; {Closed} in-doubt intent(s) closed", digest.Digest, digest.Chains, closed);
    }
}
