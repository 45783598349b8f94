namespace Cafetalk.Integrations.Disclosure;

/// <summary>
/// One provider call as the ledger needs it: ids and field names only, never values. <paramref name="Fields"/> are the
/// paths the call sends (body paths, <c>query:</c> and <c>path:</c> names); each party gets an Intended row for the
/// fields the policy says are their data. A party with no id (a booking without a student) is skipped.
/// </summary>
public sealed record DisclosureCall(
    string PurposeId,
    string Operation,
    IReadOnlyList<(string? MemberId, SubjectRole Role)> Parties,
    IReadOnlyCollection<string> Fields,
    string ConsentRecordId,
    string CorrelationId,
    string? BookingId = null,
    string? ProviderObjectId = null)
{
    /// <summary>
    /// A student erased before this call (their id gone from the booking): their data is recorded on their own chain
    /// (by pseudonym, on the basis of their erasure) instead of being skipped. Set only for a call erasure allows, a delete.
    /// </summary>
    public ErasedSubject? ErasedStudent { get; init; }
}

/// <summary>
/// The one "record intent, call, record outcome" of every provider call that may carry personal data: Intended rows
/// before the call (one transaction per party), the call with that context declared (so the gate lets through only
/// what was recorded), then Succeeded, or Failed even when the caller gave up. A call carrying no party's data writes
/// no row and goes out declared as such.
/// </summary>
public sealed class DisclosureScope(DisclosureLedger ledger, DisclosurePolicy policy)
{
    public async Task<T> RunAsync<T>(DisclosureCall call, Func<DisclosureContext, Task<T>> send, Func<T, string?>? providerObjectIdOf = null, CancellationToken cancellationToken = default)
    {
        var context = await OpenAsync(call, cancellationToken);
        T result;
        try
        {
            result = await send(context);
        }
        catch
        {
            // Recorded even when the caller gave up: the ledger must not be left with a dangling intent.
            await CloseAsync(context, DisclosureOutcome.Failed, call.ProviderObjectId, CancellationToken.None);
            throw;
        }

        await CloseAsync(context, DisclosureOutcome.Succeeded, providerObjectIdOf?.Invoke(result) ?? call.ProviderObjectId, cancellationToken);
        return result;
    }

    /// <summary>Writes the Intended rows of <paramref name="call"/> and returns the context to declare on its request.</summary>
    public async Task<DisclosureContext> OpenAsync(DisclosureCall call, CancellationToken cancellationToken = default)
    {
        var purpose = policy.GetPurpose(call.PurposeId);
        var intents = new List<DisclosureIntent>();
        foreach (var (memberId, role) in call.Parties)
        {
            var items = purpose.Fields
                .Where(f => call.Fields.Contains(f.Path) && DisclosurePurpose.Covers(f.Owner, role))
                .Select(f => f.Path)
                .ToList();
            if (!string.IsNullOrEmpty(memberId) && items.Count > 0)
            {
                intents.Add(new DisclosureIntent(purpose, call.Operation, memberId, role, call.ConsentRecordId,
                    call.CorrelationId, call.BookingId, call.ProviderObjectId, items));
            }
            else if (string.IsNullOrEmpty(memberId) && items.Count > 0 && role == SubjectRole.Student && call.ErasedStudent is { } erased)
            {
                intents.Add(new DisclosureIntent(purpose, call.Operation, string.Empty, role, erased.CorrelationId,
                    call.CorrelationId, call.BookingId, call.ProviderObjectId, items) { ErasedSubjectRef = erased.SubjectRef });
            }
        }

        return intents.Count == 0
            ? DisclosureContext.WithoutPersonalData(purpose)
            : DisclosureContext.For(purpose, await ledger.RecordIntentsAsync(intents, cancellationToken));
    }

    /// <summary>Writes the outcome row of each intent of <paramref name="context"/>.</summary>
    public Task CloseAsync(DisclosureContext context, DisclosureOutcome outcome, string? providerObjectId, CancellationToken cancellationToken = default) =>
        context.Intents.Count == 0
            ? Task.CompletedTask
            : ledger.RecordOutcomesAsync(context.Intents.Select(h => new DisclosureResult(h, outcome, providerObjectId)), cancellationToken);
}
