using System.Security.Cryptography;
using System.Text;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>
/// Ids derived from a member id with a secret key (HMAC-SHA256 under <see cref="ErasureKeysOptions.MemberKey"/>):
/// the erasure receipt's id, the erasure's ledger correlation id, the tombstone's key, and the commitments that bind
/// each member's mapping to its ledger chain. A plain hash would let
/// anyone who reads storage hash every candidate member id and find the one erased; without the key they cannot.
/// </summary>
public sealed class MemberKeys(IOptions<ErasureKeysOptions> options)
{
    private readonly Lazy<byte[]> _key = new(() => KeyRing.UsableKey(options.Value.MemberKey)
        ?? throw new InvalidOperationException(KeyRing.KeyProblem($"{ErasureKeysOptions.Section}:{nameof(ErasureKeysOptions.MemberKey)}", options.Value.MemberKey)));

    /// <summary>64 hex digits naming the member's erasure (receipt, tombstone and sealed mapping rows).</summary>
    public string ErasureId(string memberId) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_key.Value, Encoding.UTF8.GetBytes("erasure\n" + memberId)));

    /// <summary>The correlation id the erasure's ledger rows carry: the receipt id's first 16 hex digits.</summary>
    public string ErasureCorrelationId(string memberId) => CorrelationIdOf(ErasureId(memberId));

    /// <summary>The same from the erasure id alone, for a late follow-up that no longer knows the member id.</summary>
    public static string CorrelationIdOf(string erasureId) => $"erasure-{erasureId[..16]}";

    /// <summary>
    /// Commits a member's mapping to its chain: whoever can write the Subjects table but lacks the key can neither
    /// point a member at another chain nor move a mapping to another member without the commitment failing.
    /// </summary>
    public string SubjectCommitment(string memberId, string subjectRef) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_key.Value, Encoding.UTF8.GetBytes("subject\n" + memberId + "\n" + subjectRef)));

    /// <summary>The key of an erased chain's marker: vouches that an erasure (not an insider) took the chain's mapping away, and names neither chain nor member.</summary>
    public string ErasedChainCommitment(string subjectRef) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_key.Value, Encoding.UTF8.GetBytes("erased-chain\n" + subjectRef)));

    /// <summary>Constant-time comparison of a stored commitment with the expected one.</summary>
    public static bool Matches(string? stored, string expected) =>
        stored is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(stored), Encoding.ASCII.GetBytes(expected));
}
