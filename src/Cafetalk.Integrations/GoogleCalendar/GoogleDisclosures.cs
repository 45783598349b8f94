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
/// Records every Google call that carries a lecturer's or student's data in the disclosure ledger before it is made
/// (one Intended row per party) and its outcome after. The returned context is declared on the request, so the gate
/// lets through only what was recorded.
/// </summary>
public sealed class GoogleDisclosures(DisclosureLedger ledger, DisclosurePolicy policy)
{
    public DisclosurePurpose Purpose(string purposeId) => policy.GetPurpose(purposeId);

    public async Task<DisclosureContext> RecordIntentAsync(GoogleDisclosure disclosure, CancellationToken cancellationToken = default)
    {
        var purpose = policy.GetPurpose(disclosure.PurposeId);
        var sent = new HashSet<string>(disclosure.Fields, StringComparer.Ordinal);
        var intents = new List<DisclosureIntent>();
        foreach (var (memberId, role) in new[] { (disclosure.LecturerId, SubjectRole.Lecturer), (disclosure.StudentId, SubjectRole.Student) })
        {
            var items = purpose.Fields
                .Where(f => sent.Contains(f.Path) && (f.Owner == DataOwner.Both || f.Owner.ToString() == role.ToString()))
                .Select(f => f.Path)
                .ToList();
            if (memberId is not null && items.Count > 0)
            {
                intents.Add(new DisclosureIntent(purpose, disclosure.Operation, memberId, role, disclosure.ConsentRecordId,
                    disclosure.CorrelationId, disclosure.BookingId, disclosure.ProviderObjectId, items));
            }
        }

        return intents.Count == 0
            ? DisclosureContext.WithoutPersonalData(purpose)
            : DisclosureContext.For(purpose, await ledger.RecordIntentsAsync(intents, cancellationToken));
    }

    public Task RecordOutcomeAsync(DisclosureContext context, bool succeeded, string? providerObjectId = null, CancellationToken cancellationToken = default) =>
        context.Intents.Count == 0 ? Task.CompletedTask : ledger.RecordOutcomesAsync(
            context.Intents.Select(h => new DisclosureResult(h, succeeded ? DisclosureOutcome.Succeeded : DisclosureOutcome.Failed, providerObjectId)),
            cancellationToken);

    /// <summary>Intent before, outcome after (Failed even when the caller gave up), the call in between.</summary>
    public async Task<T> DiscloseAsync<T>(GoogleDisclosure disclosure, Func<DisclosureContext, Task<T>> call, Func<T, string?>? objectIdOf = null, CancellationToken cancellationToken = default)
    {
        var context = await RecordIntentAsync(disclosure, cancellationToken);
        T result;
        try
        {
            result = await call(context);
        }
        catch
        {
            await RecordOutcomeAsync(context, false, disclosure.ProviderObjectId, CancellationToken.None);
            throw;
        }

        await RecordOutcomeAsync(context, true, objectIdOf?.Invoke(result) ?? disclosure.ProviderObjectId, cancellationToken);
        return result;
    }
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
