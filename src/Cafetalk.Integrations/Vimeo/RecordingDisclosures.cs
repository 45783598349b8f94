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
public sealed class RecordingDisclosures(DisclosureScope scope)
{
    /// <summary>The one operation still allowed on an erased student's recording: deleting what a provider holds.</summary>
    public const string ErasureFollowUpOperation = "delete";

    /// <summary>Runs <paramref name="call"/> as one disclosure of <paramref name="fields"/> (body paths, <c>query:</c> and <c>path:</c> names).</summary>
    public Task<T> DiscloseAsync<T>(
        string purposeId,
        string operation,
        RecordingParties parties,
        IReadOnlyCollection<string> fields,
        string? providerObjectId,
        string correlationId,
        Func<DisclosureContext, Task<T>> call,
        Func<T, string?> providerObjectIdOf,
        CancellationToken cancellationToken = default) =>
        // Recording needs both parties' consent, held on the booking: the booking is the consent record.
        scope.RunAsync(
            new DisclosureCall(purposeId, operation, [(parties.LecturerId, SubjectRole.Lecturer), (parties.StudentId, SubjectRole.Student)], fields,
                $"booking:{parties.BookingId}:recording-consent", correlationId, parties.BookingId, providerObjectId)
            {
                // Only a delete may still name an erased student's data: recorded on their own chain, on the basis of their erasure request.
                ErasedStudent = operation == ErasureFollowUpOperation ? parties.ErasedStudent : null,
            },
            call, providerObjectIdOf, cancellationToken);

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
}
