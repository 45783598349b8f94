namespace Cafetalk.Integrations.Disclosure;

/// <summary>
/// A member's Subjects mapping does not carry the commitment the member key gives it: it was edited, moved from another
/// member, or written by someone without the key. Names the chain the mapping points at, never the member.
/// </summary>
public sealed class SubjectMappingTamperedException(string? subjectRef)
    : Exception($"The member's ledger mapping (naming chain {(SubjectRegistry.IsSubjectRef(subjectRef) ? subjectRef : "that is no pseudonym")}) does not match its commitment: it was edited, moved from another member or written without the member key. Run `ledger verify` and restore the mapping before exporting or recording.")
{
    public string? SubjectRef { get; } = subjectRef;
}
