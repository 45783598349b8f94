using Cafetalk.Integrations.Disclosure;
using Google.Apis.Http;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>One call to Google as the ledger needs it: ids and field names only, never values.</summary>
public sealed record GoogleDisclosure(
    string PurposeId,
    string Operation,
    string LecturerId,
    string? StudentId,
    string ConsentRecordId,
    string CorrelationId,
    IReadOnlyList<string> Fields,
    string? BookingId = null,
    string? ProviderObjectId = null);

/// <summary>
/// Records every Google call that carries a lecturer's or student's data in the disclosure ledger (through
/// <see cref="DisclosureScope"/>): one Intended row per party before it, its outcome after.
/// </summary>
public sealed class GoogleDisclosures(DisclosureScope scope, DisclosurePolicy policy)
{
    public DisclosurePurpose Purpose(string purposeId) => policy.GetPurpose(purposeId);

    public Task<DisclosureContext> RecordIntentAsync(GoogleDisclosure disclosure, CancellationToken cancellationToken = default) =>
        scope.OpenAsync(Call(disclosure), cancellationToken);

    public Task RecordOutcomeAsync(DisclosureContext context, bool succeeded, string? providerObjectId = null, CancellationToken cancellationToken = default) =>
        scope.CloseAsync(context, succeeded ? DisclosureOutcome.Succeeded : DisclosureOutcome.Failed, providerObjectId, cancellationToken);

    /// <summary>Intent before, outcome after (Failed even when the caller gave up), the call in between.</summary>
    public Task<T> DiscloseAsync<T>(GoogleDisclosure disclosure, Func<DisclosureContext, Task<T>> call, Func<T, string?>? objectIdOf = null, CancellationToken cancellationToken = default) =>
        scope.RunAsync(Call(disclosure), call, objectIdOf, cancellationToken);

    private static DisclosureCall Call(GoogleDisclosure d) =>
        new(d.PurposeId, d.Operation, [(d.LecturerId, SubjectRole.Lecturer), (d.StudentId, SubjectRole.Student)], d.Fields.ToHashSet(StringComparer.Ordinal),
            d.ConsentRecordId, d.CorrelationId, d.BookingId, d.ProviderObjectId);
}

/// <summary>Puts a disclosure on each message Google.Apis sends, for the gate to check.</summary>
internal sealed class DisclosureInterceptor(DisclosureContext context) : IHttpExecuteInterceptor
{
    public Task InterceptAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.DeclareDisclosure(context);
        return Task.CompletedTask;
    }
}
