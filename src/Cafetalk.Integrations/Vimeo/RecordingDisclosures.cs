using Cafetalk.Integrations.Disclosure;

namespace Cafetalk.Integrations.Vimeo;

/// <summary>
/// The booking a recording belongs to: whose data it is. After the student's erasure <see cref="StudentId"/> is empty
/// and <see cref="ErasedStudent"/> names their chain and erasure instead.
/// </summary>
public sealed record RecordingParties(string BookingId, string LecturerId, string StudentId, ErasedSubject? ErasedStudent = null);

/// <summary>
/// Wraps every recording call (Vimeo and Zoom's cloud recording) in the ledger: an Intended row per party whose
/// data the call carries before it, Succeeded or Failed after. The returned context is declared on the request,
/// so the gate lets through only what was recorded.
/// </summary>
public sealed class RecordingDisclosures(DisclosureLedger ledger, DisclosurePolicy policy)
{
    /// <summary>The one operation still allowed on an erased student's recording: deleting what a provider holds.</summary>
    public const string ErasureFollowUpOperation = "delete";

    /// <summary>Runs <paramref name="call"/> as one disclosure of <paramref name="fields"/> (body paths, <c>query:</c> and <c>path:</c> names).</summary>
    public async Task<T> DiscloseAsync<T>(
        string purposeId,
        string operation,
        RecordingParties parties,
        IReadOnlyCollection<string> fields,
        string? providerObjectId,
        string correlationId,
        Func<DisclosureContext, Task<T>> call,
        Func<T, string?> providerObjectIdOf,
        CancellationToken cancellationToken = default)
    {
        var purpose = policy.GetPurpose(purposeId);
        // Recording needs both parties' consent, held on the booking: the booking is the consent record.
        var consent = $"booking:{parties.BookingId}:recording-consent";
        var intents = new List<DisclosureIntent>();
        foreach (var (memberId, role) in new[] { (parties.LecturerId, SubjectRole.Lecturer), (parties.StudentId, SubjectRole.Student) })
        {
            var items = purpose.Fields.Where(f => fields.Contains(f.Path) && DisclosurePurpose.Covers(f.Owner, role)).Select(f => f.Path).ToList();
            if (items.Count > 0 && memberId.Length > 0)
            {
                intents.Add(new DisclosureIntent(purpose, operation, memberId, role, consent, correlationId, parties.BookingId, providerObjectId, items));
            }
            else if (items.Count > 0 && role == SubjectRole.Student && parties.ErasedStudent is { } erased && operation == ErasureFollowUpOperation)
            {
                // Only a delete may still name an erased student's data: it is recorded on their own chain, on the basis of their erasure request.
                intents.Add(new DisclosureIntent(purpose, operation, string.Empty, role, erased.CorrelationId, correlationId, parties.BookingId, providerObjectId, items)
                {
                    ErasedSubjectRef = erased.SubjectRef,
                });
            }
        }

        var context = intents.Count == 0
            ? DisclosureContext.WithoutPersonalData(purpose)
            : DisclosureContext.For(purpose, await ledger.RecordIntentsAsync(intents, cancellationToken));
        T result;
        try
        {
            result = await call(context);
        }
        catch
        {
            // Recorded even when the caller gave up: the ledger must not be left with a dangling intent.
            await RecordAsync(context, DisclosureOutcome.Failed, providerObjectId, CancellationToken.None);
            throw;
        }

        await RecordAsync(context, DisclosureOutcome.Succeeded, providerObjectIdOf(result) ?? providerObjectId, cancellationToken);
        return result;
    }

    /// <summary>The same for a call with no result.</summary>
    public Task DiscloseAsync(
        string purposeId,
        string operation,
        RecordingParties parties,
        IReadOnlyCollection<string> fields,
        string? providerObjectId,
        string correlationId,
        Func<DisclosureContext, Task> call,
        CancellationToken cancellationToken = default) =>
        DiscloseAsync(purposeId, operation, parties, fields, providerObjectId, correlationId, async context =>
        {
            await call(context);
            return true;
        }, _ => null, cancellationToken);

    private Task RecordAsync(DisclosureContext context, DisclosureOutcome outcome, string? providerObjectId, CancellationToken cancellationToken) =>
        context.Intents.Count == 0
            ? Task.CompletedTask
            : ledger.RecordOutcomesAsync(context.Intents.Select(h => new DisclosureResult(h, outcome, providerObjectId)), cancellationToken);
}
