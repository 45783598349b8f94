using System.Security.Cryptography;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Tests.Storage;

public sealed class FieldProtectorTests
{
    private static readonly string Key1 = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private static readonly string Key2 = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static FieldProtector CreateSut(string current, params (string Id, string Key)[] keys) =>
        new(Options.Create(new FieldProtectionOptions { CurrentKeyId = current, Keys = keys.ToDictionary(k => k.Id, k => k.Key) }));

    [Fact]
    public void Unprotect_SameRow_ReturnsThePlaintext()
    {
        var sut = CreateSut("k1", ("k1", Key1));

        var sealedValue = sut.Protect("hanako.yamada@example.jp", "NewsletterSubscriptions/sub_a/sub|news");

        Assert.StartsWith("v1.k1.", sealedValue, StringComparison.Ordinal);
        Assert.DoesNotContain("hanako", sealedValue, StringComparison.Ordinal);
        Assert.Equal("hanako.yamada@example.jp", sut.Unprotect(sealedValue, "NewsletterSubscriptions/sub_a/sub|news"));
    }

    [Fact]
    public void Unprotect_CiphertextMovedToAnotherRow_IsRefusedWithoutTheValue()
    {
        var sut = CreateSut("k1", ("k1", Key1));
        var sealedValue = sut.Protect("hanako.yamada@example.jp", "row-a");

        var error = Assert.Throws<FieldProtectionException>(() => sut.Unprotect(sealedValue, "row-b"));

        Assert.DoesNotContain("hanako", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Protect_TwiceTheSameValue_GivesDifferentCiphertexts()
    {
        var sut = CreateSut("k1", ("k1", Key1));

        Assert.NotEqual(sut.Protect("x@example.jp", "row"), sut.Protect("x@example.jp", "row"));
    }

    [Fact]
    public void Unprotect_AfterRotation_OpensOldValuesAndFlagsThemForRewrap()
    {
        var before = CreateSut("k1", ("k1", Key1)).Protect("x@example.jp", "row");
        var after = CreateSut("k2", ("k1", Key1), ("k2", Key2));

        Assert.Equal("x@example.jp", after.Unprotect(before, "row"));
        Assert.True(after.NeedsRewrap(before));
        Assert.False(after.NeedsRewrap(after.Protect("x@example.jp", "row")));
        Assert.Throws<FieldProtectionException>(() => CreateSut("k2", ("k2", Key2)).Unprotect(before, "row"));
    }

    [Theory]
    [InlineData("plaintext@example.jp")]
    [InlineData("v1.k1.")]
    [InlineData("v1.k1.!!!")]
    [InlineData("v2.k1.AAAA")]
    public void Unprotect_Malformed_IsRefused(string value) =>
        Assert.Throws<FieldProtectionException>(() => CreateSut("k1", ("k1", Key1)).Unprotect(value, "row"));

    [Fact]
    public void Validator_CurrentKeyMissingOrWrongLength_Fails()
    {
        var validator = new FieldProtectionOptionsValidator();

        Assert.True(validator.Validate(null, new FieldProtectionOptions { CurrentKeyId = "k9", Keys = new() { ["k1"] = Key1 } }).Failed);
        Assert.True(validator.Validate(null, new FieldProtectionOptions { CurrentKeyId = "k1", Keys = new() { ["k1"] = Convert.ToBase64String(new byte[31]) } }).Failed);
        Assert.True(validator.Validate(null, new FieldProtectionOptions { CurrentKeyId = "k1", Keys = new() { ["k1"] = Key1 } }).Succeeded);
    }
}
