using Cafetalk.Integrations.Disclosure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Functions.Disclosure;

/// <summary>
/// Timer (<c>%LedgerDigestSchedule%</c>, every 15 minutes): closes intents a stopped worker left in doubt (as Failed),
/// verifies the whole ledger against every signed digest, then appends a signed digest of every chain head. Over a broken
/// chain it still appends (that chain at its last trusted head, marked broken, so the others stay protected), logs an
/// error and fails the run, which the <c>ledger-digest-failed</c> alert fires on; <c>ledger-digest-absent</c> fires when
/// no run succeeds for 45 minutes.
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

        LedgerDigest digest;
        try
        {
            digest = await digests.WriteAsync(verification, cancellationToken);
        }
        catch (LedgerBrokenException ex)
        {
            logger.LogError("Ledger digest {Digest} written with the broken chains marked at their last trusted heads: {Findings} finding(s) in the ledger's chains",
                ex.Written.Digest, verification.ChainFindings.Count());
            throw;
        }

        logger.LogInformation("Ledger digest {Digest} written over {Chains} chains; {Closed} in-doubt intent(s) closed", digest.Digest, digest.Chains, closed);
    }
}
