using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>The result of <see cref="SubjectMappingVerifier.VerifyAsync"/>: how many mappings and erased chains it checked, and each break.</summary>
public sealed record SubjectMappingVerification(int Mappings, int ErasedChains, IReadOnlyList<LedgerFinding> Findings)
{
    public bool IsIntact => Findings.Count == 0;
}

/// <summary>
/// Checks the member ↔ chain mappings of table <c>Subjects</c> against the ledger's chains, with the member key: each
/// mapping must carry its keyed commitment (<see cref="MemberKeys.SubjectCommitment"/>), so a mapping edited to
/// another chain, swapped with another member's or written by someone without the key is reported; each chain must be
/// named by a committed mapping or covered by an erasure's marker (keyed by <see cref="MemberKeys.ErasedChainCommitment"/>,
/// which only the key holder can compute), so a deleted or redirected mapping shows as the chain left without one. A chain whose rows were all purged after their retention needs neither.
/// </summary>
/// <remarks>Separate from <see cref="LedgerVerifier"/> (which needs no member key): it takes the heads that verifier read.</remarks>
public sealed class SubjectMappingVerifier(StorageAccount storage, MemberKeys keys)
{
    public async Task<SubjectMappingVerification> VerifyAsync(IReadOnlyList<ChainHeadSnapshot> heads, CancellationToken cancellationToken = default)
    {
        var findings = new List<LedgerFinding>();
        var mapped = new HashSet<string>(StringComparer.Ordinal);
        var erased = new HashSet<string>(StringComparer.Ordinal);
        var mappings = 0;
        var table = storage.Table(TableNames.Subjects);
        string[] columns = ["PartitionKey", "RowKey", "SubjectRef", SubjectRegistry.CommitColumn];
        await foreach (var row in table.QueryAsync<TableEntity>(select: columns, cancellationToken: cancellationToken))
        {
            if (row.PartitionKey == SubjectRegistry.ErasedChainPartition)
            {
                // A marker whose key is no chain's commitment covers nothing (made up, or its member never had a chain).
                erased.Add(row.RowKey);
                continue;
            }

            if (row.PartitionKey.StartsWith('~') || row.RowKey != "subject")
            {
                // Tombstones: their sealed mapping is bound to its row by the seal itself.
                continue;
            }

            mappings++;
            var subjectRef = row.GetString("SubjectRef");
            var commit = row.GetString(SubjectRegistry.CommitColumn);
            if (subjectRef is not null && MemberKeys.Matches(commit, keys.SubjectCommitment(row.PartitionKey, subjectRef)))
            {
                mapped.Add(subjectRef);
            }
            else
            {
                findings.Add(Mismatch(subjectRef, commit is null
                    ? "a member's mapping names this chain without a commitment: it predates commitments (run `ledger commit-subjects` once) or was written without the member key"
                    : "a member's mapping names this chain but its commitment does not match: it was edited to this chain or moved from another member"));
            }
        }

        var erasedChains = 0;
        foreach (var head in heads)
        {
            var fullyPurged = head.PurgedThroughSeq > 0 && head.PurgedThroughSeq >= head.Seq;
            var isErased = erased.Contains(keys.ErasedChainCommitment(head.SubjectRef));
            erasedChains += isErased ? 1 : 0;
            if (mapped.Contains(head.SubjectRef) && isErased)
            {
                findings.Add(Mismatch(head.SubjectRef, "the chain of an erased member is mapped to a member again"));
            }
            else if (!mapped.Contains(head.SubjectRef) && !isErased && !fullyPurged)
            {
                findings.Add(Mismatch(head.SubjectRef, "no member's committed mapping names this chain and no erasure covers it: its mapping was deleted or pointed elsewhere"));
            }
        }

        return new SubjectMappingVerification(mappings, erasedChains, findings);
    }

    // A mapping may name anything an insider wrote there: only a pseudonym is repeated, never a value that could be personal.
    private static LedgerFinding Mismatch(string? subjectRef, string detail) =>
        new(LedgerFindingKind.MappingMismatch, SubjectRegistry.IsSubjectRef(subjectRef) ? subjectRef! : "(not a pseudonym)", null, detail);
}
