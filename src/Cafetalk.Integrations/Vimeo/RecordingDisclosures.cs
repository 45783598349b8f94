using Cafetalk.Integrations.Disclosure;

namespace Cafetalk.Integrations.Vimeo;

/// <summary>The booking a recording belongs to: whose data it is.</summary>
public sealed record RecordingParties(string BookingId, string LecturerId, string StudentId);

/// <summary>
/// Wraps every recording call (Vimeo and Zoom's cloud recording) in the ledger: an Intended row per party whose
/// data the call carries before it, Succeeded or Failed after. The returned context is declared on the request,
/// so the gate lets through only what was recorded.
/// </summary>
public sealed class RecordingDisclosures(DisclosureScope scope)
{
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
                $"booking:{parties.BookingId}:recording-consent", correlationId, parties.BookingId, providerObjectId),
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
