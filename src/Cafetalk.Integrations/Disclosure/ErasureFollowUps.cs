using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>
/// What the pipeline still does for a member after their erasure completed: a provider object that appeared only
/// afterwards (Zoom finishing a lesson recording late) is deleted, and that is written on the erasure's receipt. The
/// ledger rows of the delete are on the member's own chain (kept by pseudonym on the scrubbed booking row), so their
/// tombstone and sealed mapping are kept as long as those rows: the records still identify the person (APPI Art. 29).
/// </summary>
public sealed class ErasureFollowUps(ErasureReceipts receipts, SubjectRegistry subjects, TimeProvider time, ILogger<ErasureFollowUps> logger)
{
    /// <summary>The receipt line's provider for a recording Zoom finished after the erasure.</summary>
    public const string LateZoomRecording = "zoom-late-recording";

    /// <summary>Zoom's copy is gone (or was already): the receipt says so, and the tombstone outlives the delete's ledger rows.</summary>
    public async Task LateRecordingDeletedAsync(ErasedSubject erased, string bookingId, bool existed, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        await subjects.KeepTombstoneUntilAsync(erased, now.AddYears(DisclosureLedger.RetentionYears), cancellationToken);
        await RecordAsync(erased, new ErasureStep(LateZoomRecording, existed ? "late recording at Zoom deleted" : "late recording at Zoom already gone",
            1, ErasureStep.Done, now, Detail(bookingId)), cancellationToken);
    }

    /// <summary>
    /// The delete failed: the receipt states it pending with the reason (never silence), and the caller rethrows so
    /// the webhook's message is retried. The tombstone is extended too: the failed attempt's rows are records as well.
    /// </summary>
    public async Task LateRecordingPendingAsync(ErasedSubject erased, string bookingId, string reason, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        await subjects.KeepTombstoneUntilAsync(erased, now.AddYears(DisclosureLedger.RetentionYears), cancellationToken);
        await RecordAsync(erased, new ErasureStep(LateZoomRecording, $"late recording at Zoom not yet deleted: {reason}; retried",
            0, ErasureStep.Failed, now, Detail(bookingId)), cancellationToken);
        logger.LogWarning("Erasure {CorrelationId}: a late Zoom recording of booking {BookingId} is not yet deleted ({Reason}); it is retried", erased.CorrelationId, bookingId, reason);
    }

    private async Task RecordAsync(ErasedSubject erased, ErasureStep step, CancellationToken cancellationToken)
    {
        if (!await receipts.RecordFollowUpAsync(erased.ErasureId, step, cancellationToken))
        {
            logger.LogWarning("Erasure {CorrelationId} has no receipt to record a follow-up on", erased.CorrelationId);
        }
    }

    private static string Detail(string bookingId) => $"booking {bookingId}";
}
