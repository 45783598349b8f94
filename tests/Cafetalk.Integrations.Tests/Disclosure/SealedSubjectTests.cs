using System.Security.Cryptography;
using System.Text;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Sandbox;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Tests.Disclosure;

/// <summary>The erasure keys: member-derived ids under a secret, and mappings sealed for the privacy office alone.</summary>
public sealed class SealedSubjectTests
{
    private static readonly PrivacyOfficeKeyPair Office = PrivacyOfficeKeyPair.Generate();

    private static MemberKeys CreateSut(string? key = null) => new(Options.Create(new ErasureKeysOptions
    {
        MemberKey = key ?? Convert.ToBase64String(new byte[32].Select((_, i) => (byte)i).ToArray()),
        PrivacyOfficePublicKey = Office.PublicKey,
    }));

    [Fact]
    public void ErasureId_IsNotThePlainHashOfTheMemberId_AndChangesWithTheKey()
    {
        var plain = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("stu_90311")));

        var keyed = CreateSut().ErasureId("stu_90311");

        Assert.NotEqual(plain, keyed);
        Assert.Matches("^[0-9a-f]{64}$", keyed);
        Assert.NotEqual(keyed, CreateSut(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))).ErasureId("stu_90311"));
        Assert.Equal($"erasure-{keyed[..16]}", CreateSut().ErasureCorrelationId("stu_90311"));
    }

    [Fact]
    public void Seal_OpensOnlyWithThePrivacyOfficesPrivateKey_AndOnlyOnItsOwnRow()
    {
        var mapping = new SubjectMapping("stu_90311", "sub-0123456789abcdef0123456789abcdef");
        var sealedValue = SealedSubject.Seal(Convert.FromBase64String(Office.PublicKey), "row-a", mapping);

        Assert.DoesNotContain("stu_90311", sealedValue, StringComparison.Ordinal);
        Assert.DoesNotContain("sub-0123", sealedValue, StringComparison.Ordinal);
        Assert.Equal(mapping, SealedSubject.Open(Office.PrivateKeyPem, "row-a", sealedValue));
        Assert.Throws<SealedSubjectException>(() => SealedSubject.Open(PrivacyOfficeKeyPair.Generate().PrivateKeyPem, "row-a", sealedValue));
        Assert.Throws<SealedSubjectException>(() => SealedSubject.Open(Office.PrivateKeyPem, "row-b", sealedValue));
        Assert.Throws<SealedSubjectException>(() => SealedSubject.Open(Office.PrivateKeyPem, "row-a", sealedValue[..^4] + "AAAA"));
    }

    [Fact]
    public void Validator_RefusesAShortMemberKeyOrAWeakOrMissingPublicKey_NamingTheSetting()
    {
        var validator = new ErasureKeysOptionsValidator();
        var goodKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        using var weak = RSA.Create(2048);

        var shortKey = validator.Validate(null, new ErasureKeysOptions { MemberKey = Convert.ToBase64String(new byte[16]), PrivacyOfficePublicKey = Office.PublicKey });
        var weakRsa = validator.Validate(null, new ErasureKeysOptions { MemberKey = goodKey, PrivacyOfficePublicKey = Convert.ToBase64String(weak.ExportSubjectPublicKeyInfo()) });
        var garbage = validator.Validate(null, new ErasureKeysOptions { MemberKey = goodKey, PrivacyOfficePublicKey = Convert.ToBase64String(new byte[40]) });

        Assert.Contains("Erasure:MemberKey", shortKey.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Erasure:PrivacyOfficePublicKey", weakRsa.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Erasure:PrivacyOfficePublicKey", garbage.FailureMessage, StringComparison.Ordinal);
        Assert.True(validator.Validate(null, new ErasureKeysOptions { MemberKey = goodKey, PrivacyOfficePublicKey = Office.PublicKey }).Succeeded);
    }
}
