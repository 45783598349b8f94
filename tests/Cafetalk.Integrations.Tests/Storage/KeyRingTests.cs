using System.Security.Cryptography;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Tests.Storage;

/// <summary>The one key-ring check every keyed setting uses: each problem names the setting, never the key.</summary>
public sealed class KeyRingTests
{
    private static readonly string Key32 = RandomKey(32);
    private static readonly string Key31 = RandomKey(31);
    private static readonly string Key48 = RandomKey(48);

    private static string RandomKey(int bytes) => Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes));

    private static string? Ring(string? current, Dictionary<string, string> keys, bool exactly = false) =>
        KeyRing.RingProblem("Section", "CurrentKeyId", current, "Keys", keys, exactly: exactly);

    [Fact]
    public void RingProblem_UsableRing_IsNull()
    {
        Assert.Null(Ring("k1", new() { ["k1"] = Key32, ["k-2"] = Key48 }));
        Assert.Null(Ring("k1", new() { ["k1"] = Key32 }, exactly: true));
    }

    [Fact]
    public void RingProblem_CurrentIdNamesNoKey_NamesBothSettings()
    {
        Assert.Equal("Section:CurrentKeyId names no key in Section:Keys.", Ring("k9", new() { ["k1"] = Key32 }));
        Assert.Equal("Section:CurrentKeyId names no key in Section:Keys.", Ring(null, new() { ["k1"] = Key32 }));
    }

    [Fact]
    public void RingProblem_BadKeyId_NamesTheRingNotTheId()
    {
        var problem = Ring("k1", new() { ["k1"] = Key32, ["an id far too long"] = Key32 });

        Assert.Equal("Section:Keys has a key id that is not 1-16 letters, digits or '-'.", problem);
    }

    [Fact]
    public void RingProblem_ShortLongOrNotBase64Key_NamesTheSettingAndNeverTheKey()
    {
        var shortKey = Ring("k1", new() { ["k1"] = Key31 });
        var longKeyWhereExact = Ring("k1", new() { ["k1"] = Key48 }, exactly: true);
        var notBase64 = Ring("k1", new() { ["k1"] = "not base64 at all!" });

        Assert.Equal("Section:Keys:k1 must be base64 of at least 32 bytes.", shortKey);
        Assert.Equal("Section:Keys:k1 must be base64 of exactly 32 bytes.", longKeyWhereExact);
        Assert.Equal("Section:Keys:k1 must be base64 of at least 32 bytes.", notBase64);
        Assert.All(new[] { shortKey, longKeyWhereExact, notBase64 }, p => Assert.DoesNotContain(Key31, p!, StringComparison.Ordinal));
        Assert.DoesNotContain(Key48, longKeyWhereExact!, StringComparison.Ordinal);
        Assert.DoesNotContain("not base64", notBase64!, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyProblem_SingleKey_NamesTheSettingAndNeverTheKey()
    {
        Assert.Null(KeyRing.KeyProblem("Erasure:MemberKey", Key32));
        Assert.Null(KeyRing.KeyProblem("Erasure:MemberKey", Key48));
        var problem = KeyRing.KeyProblem("Erasure:MemberKey", Key31);

        Assert.Equal("Erasure:MemberKey must be base64 of at least 32 bytes.", problem);
        Assert.DoesNotContain(Key31, problem!, StringComparison.Ordinal);
        Assert.NotNull(KeyRing.KeyProblem("Erasure:MemberKey", null));
    }

    [Fact]
    public void UsableKey_ReturnsTheBytesOnlyWhenLongEnough()
    {
        Assert.Equal(32, KeyRing.UsableKey(Key32)!.Length);
        Assert.Null(KeyRing.UsableKey(Key31));
        Assert.Null(KeyRing.UsableKey(Key48, exactly: true));
    }
}
