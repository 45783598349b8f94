using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Erasure;

/// <summary>What every step of one erasure works from.</summary>
public sealed record ErasureScope(string MemberId, string? SubjectRef, IReadOnlyList<(string LecturerId, string BookingId)> Bookings, string CorrelationId);

/// <summary>One provider's part of an erasure. Steps are idempotent: a retry after a partial failure repeats them safely.</summary>
public interface IErasureStep
{
    string Provider { get; }

    Task<ErasureStep> EraseAsync(ErasureScope scope, CancellationToken cancellationToken);
}

/// <summary>A provider asked us to wait (daily limit, another instance busy with the booking); the step is retried later.</summary>
public sealed class ErasureDeferredException(string provider) : Exception($"{provider} deferred the erasure step; it will be retried.");

/// <summary>An erasure that could not finish; the receipt stays pending and the request is retried.</summary>
public sealed class ErasureIncompleteException(IEnumerable<string> failedProviders)
    : Exception($"Erasure is pending: {string.Join(", ", failedProviders)} did not finish; it will be retried.");

/// <summary>
/// Erases what was shared about a member (policy §9, §16): first a tombstone, so no later event or webhook gives
/// them a new pseudonym or disclosure; then marks their bookings erased so every converger deletes what it shared
/// and never shares it again, and runs each provider's step. Only when all are done does it strip the member's
/// ids and join links from the booking rows and seal the pseudonym mapping for the privacy office: the ledger
/// rows stay for their legal retention (APPI Art. 29), the app can no longer tell whose they are.
/// A finished erasure is a no-op that returns the same receipt.
/// </summary>
public sealed class MemberErasure(
    BookingStateStore bookings,
    SubjectRegistry subjects,
    DisclosureLedger ledger,
    MemberKeys keys,
    IEnumerable<IErasureStep> steps,
    ErasureReceipts receipts,
    Storage.StorageAccount storage,
    SiteNotifier notifier,
    TimeProvider time,
    ILogger<MemberErasure> logger)
{
    public async Task<ErasureReceipt> EraseAsync(string memberId, string requestId, CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var existing = await receipts.FindAsync(memberId, cancellationToken);
        if (existing is { IsCompleted: true })
        {
            logger.LogInformation("Erasure {ReceiptId} already completed; returning its receipt", existing.ReceiptId);
            return existing;
        }

        var receiptId = receipts.ReceiptIdOf(memberId);
        var requestedAt = existing?.RequestedAtUtc ?? time.GetUtcNow();
        // Before anything else: an event racing this erasure must not give the member a new pseudonym.
        await subjects.MarkErasedAsync(memberId, cancellationToken);
        var scope = new ErasureScope(memberId, await subjects.FindAsync(memberId, cancellationToken),
            await bookings.MarkErasedAsync(memberId, cancellationToken), keys.ErasureCorrelationId(memberId));
        var results = new List<ErasureStep>
        {
            new("bookings", "marked erased: no provider receives them again", scope.Bookings.Count, ErasureStep.Done, time.GetUtcNow(), "table Bookings"),
        };

        foreach (var step in steps)
        {
            try
            {
                results.Add(await step.EraseAsync(scope, cancellationToken));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The type names the failure family; messages never carry member data, but the receipt keeps only the type.
                results.Add(new ErasureStep(step.Provider, "erase", 0, ErasureStep.Failed, time.GetUtcNow(), ex.GetType().Name));
                logger.LogWarning("Erasure {ReceiptId}: step {Provider} failed ({ErrorType}); it stays pending", receiptId, step.Provider, ex.GetType().Name);
            }
        }

        var failed = results.Where(r => r.Outcome == ErasureStep.Failed).Select(r => r.Provider).ToList();
        if (failed.Count == 0)
        {
            // A student's rows keep their pseudonym and erasure id, so a recording Zoom finishes later can still be deleted on the record.
            var erased = scope.SubjectRef is null ? null : new ErasedSubject(scope.SubjectRef, receiptId);
            var (scrubbed, deleted) = await bookings.ForgetMemberAsync(memberId, scope.Bookings, erased, cancellationToken);
            results.Add(new ErasureStep("booking-rows", "member ids and join links removed", scrubbed + deleted, ErasureStep.Done, time.GetUtcNow(),
                $"{scrubbed} rows without StudentId and join link, {deleted} rows of the lecturer deleted (table Bookings)"));
            var retainUntil = await LastRecordRetainUntilAsync(scope.SubjectRef, cancellationToken);
            var sealedMapping = await subjects.SealAsync(memberId, retainUntil, cancellationToken);
            results.Add(new ErasureStep("ledger", "pseudonym mapping sealed for the privacy office: ledger rows kept for retention, no longer linked by the app", sealedMapping ? 1 : 0,
                ErasureStep.Done, time.GetUtcNow(), $"table Subjects; sealed mapping destroyed after {retainUntil:yyyy-MM-dd}"));
        }

        var receipt = new ErasureReceipt(receiptId, requestId, failed.Count == 0 ? ErasureReceipt.Completed : ErasureReceipt.Pending,
            requestedAt, failed.Count == 0 ? time.GetUtcNow() : null, results);
        await receipts.SaveAsync(receipt, memberId, cancellationToken);
        // Ids only (the receipt id is an HMAC of the member id): the site closes the request, or shows it pending.
        await notifier.PublishAsync(failed.Count == 0 ? SiteNotificationTypes.ErasureCompleted : SiteNotificationTypes.ErasurePending,
            failed.Count == 0
                ? new Dictionary<string, object?> { ["receiptId"] = receiptId, ["correlationId"] = scope.CorrelationId }
                : new Dictionary<string, object?> { ["receiptId"] = receiptId, ["pendingProviders"] = failed, ["correlationId"] = scope.CorrelationId },
            cancellationToken);
        logger.LogInformation("Erasure {ReceiptId}: {Status} ({Steps} steps, {Failed} failed)", receiptId, receipt.Status, results.Count, failed.Count);
        return failed.Count == 0 ? receipt : throw new ErasureIncompleteException(failed);
    }

    /// <summary>When the member's last ledger record leaves its retention: until then the sealed mapping must stay.</summary>
    private async Task<DateTimeOffset> LastRecordRetainUntilAsync(string? subjectRef, CancellationToken cancellationToken)
    {
        var last = time.GetUtcNow();
        if (subjectRef is not null)
        {
            foreach (var row in await ledger.ReadChainAsync(subjectRef, cancellationToken))
            {
                last = row.RetainUntilUtc > last ? row.RetainUntilUtc : last;
            }
        }

        return last;
    }

    /// <summary>Re-runs every pending erasure (nightly); returns how many completed now.</summary>
    public async Task<int> RetryPendingAsync(CancellationToken cancellationToken = default)
    {
        var completed = 0;
        await foreach (var (memberId, requestId) in receipts.PendingAsync(cancellationToken))
        {
            try
            {
                await EraseAsync(memberId, requestId, cancellationToken);
                completed++;
            }
            catch (ErasureIncompleteException)
            {
                // Still pending; tomorrow's run tries again.
            }
        }

        return completed;
    }
}
