namespace Cafetalk.Integrations.Disclosure;

/// <summary>
/// What a scrubbed booking row keeps of an erased member so a late provider event can still be undone and recorded:
/// their ledger pseudonym (the chain their earlier records are on) and their keyed erasure id (receipt and tombstone).
/// Neither is a member id: without the sealed mapping or the erasure key neither leads back to the member.
/// </summary>
public sealed record ErasedSubject(string SubjectRef, string ErasureId)
{
    /// <summary>The correlation id the erasure's own ledger rows carry (<see cref="MemberKeys.ErasureCorrelationId"/>).</summary>
    public string CorrelationId => MemberKeys.CorrelationIdOf(ErasureId);

    /// <summary>Both values, or null when the row kept none (erased before this was kept, or the member had no record).</summary>
    public static ErasedSubject? From(string? subjectRef, string? erasureId) =>
        SubjectRegistry.IsSubjectRef(subjectRef) && erasureId is { Length: 64 } ? new ErasedSubject(subjectRef!, erasureId) : null;
}
