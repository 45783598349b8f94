using System.Buffers.Text;
using System.Security.Cryptography;
using Cafetalk.Integrations.Newsletter;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Tests.Newsletter;

public sealed class UnsubscribeTokensTests
{
    private static readonly string KeyA = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private static readonly string KeyB = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static UnsubscribeTokens CreateSut(string current = "a", params (string Id, string Key)[] keys)
    {
        var options = new NewsletterOptions
        {
            PublicBaseUrl = new Uri("https://integrations.cafetalk.com/"),
            CurrentTokenKeyId = current,
            TokenKeys = (keys.Length == 0 ? [("a", KeyA)] : keys).ToDictionary(k => k.Id, k => k.Key),
        };
        return new UnsubscribeTokens(Options.Create(options));
    }

    [Fact]
    public void Verify_IssuedToken_NamesThePseudonymAndList()
    {
        var tokens = CreateSut();

        var target = tokens.Verify(tokens.Issue("sub_8f2k1", "cafetalk-news"));

        Assert.NotNull(target);
        Assert.Equal(("sub_8f2k1", "cafetalk-news", "a"), (target.Reference, target.List, target.KeyId));
        Assert.Equal(16, target.TokenId.Length);
    }

    [Fact]
    public void Issue_Token_IsUrlSafeAndCarriesNoReadableMemberData()
    {
        var token = CreateSut().Issue("sub_8f2k1", "cafetalk-news");

        Assert.Matches("^[A-Za-z0-9_-]+$", token);
        Assert.DoesNotContain("sub_8f2k1", token, StringComparison.Ordinal);
        Assert.Equal(token, Uri.EscapeDataString(token));
    }

    [Fact]
    public void Verify_AnySingleByteFlipped_IsRefused()
    {
        var tokens = CreateSut();
        var raw = Base64Url.DecodeFromChars(tokens.Issue("sub_8f2k1", "cafetalk-news"));

        for (var i = 0; i < raw.Length; i++)
        {
            var tampered = (byte[])raw.Clone();
            tampered[i] ^= 0x01;
            Assert.Null(tokens.Verify(Base64Url.EncodeToString(tampered)));
        }
    }

    [Fact]
    public void Verify_TruncatedAtAnyLength_IsRefused()
    {
        var tokens = CreateSut();
        var token = tokens.Issue("sub_8f2k1", "cafetalk-news");

        for (var length = 0; length < token.Length; length++)
        {
            Assert.Null(tokens.Verify(token[..length]));
        }
    }

    [Fact]
    public void Verify_AnotherMembersPseudonymSplicedIn_IsRefused()
    {
        var tokens = CreateSut();
        var mine = Base64Url.DecodeFromChars(tokens.Issue("sub_aaaaa", "cafetalk-news"));
        var theirs = Base64Url.DecodeFromChars(tokens.Issue("sub_bbbbb", "cafetalk-news"));
        // Their body with my signature.
        var spliced = theirs[..^32].Concat(mine[^32..]).ToArray();

        Assert.Null(tokens.Verify(Base64Url.EncodeToString(spliced)));
    }

    [Fact]
    public void Verify_TokenSignedByAnotherInstallationsKey_IsRefused()
    {
        var foreign = CreateSut("a", ("a", KeyB)).Issue("sub_8f2k1", "cafetalk-news");

        Assert.Null(CreateSut().Verify(foreign));
    }

    [Fact]
    public void Verify_AfterRotation_OldKeyStillVerifiesUntilRetired()
    {
        var old = CreateSut("a", ("a", KeyA)).Issue("sub_8f2k1", "cafetalk-news");
        var rotated = CreateSut("b", ("a", KeyA), ("b", KeyB));
        var retired = CreateSut("b", ("b", KeyB));

        Assert.NotNull(rotated.Verify(old));
        Assert.Equal("b", rotated.Verify(rotated.Issue("sub_8f2k1", "cafetalk-news"))!.KeyId);
        Assert.Null(retired.Verify(old));
    }

    [Fact]
    public void Verify_KeyIdSwappedToAnotherConfiguredKey_IsRefused()
    {
        var ring = CreateSut("a", ("a", KeyA), ("b", KeyB));
        var raw = Base64Url.DecodeFromChars(ring.Issue("sub_8f2k1", "cafetalk-news"));
        // The key id is the first part: 1 | len | "a" | …; relabel it as the other key of the ring.
        Assert.Equal((byte)'a', raw[2]);
        raw[2] = (byte)'b';

        Assert.Null(ring.Verify(Base64Url.EncodeToString(raw)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not base64 !!")]
    [InlineData("AAAA")]
    public void Verify_Garbage_IsRefused(string? token) => Assert.Null(CreateSut().Verify(token));

    [Fact]
    public void Verify_OverlongToken_IsRefusedBeforeDecoding() =>
        Assert.Null(CreateSut().Verify(new string('A', UnsubscribeTokens.MaxTokenLength + 1)));

    [Fact]
    public void OptionsValidator_ShortKeyOrMissingCurrent_FailsNamingTheSettingNotTheKey()
    {
        var validator = new NewsletterOptionsValidator();
        var shortKey = Convert.ToBase64String(new byte[16]);

        var tooShort = validator.Validate(null, new NewsletterOptions { PublicBaseUrl = new Uri("https://x.example/"), CurrentTokenKeyId = "a", TokenKeys = new() { ["a"] = shortKey } });
        var missing = validator.Validate(null, new NewsletterOptions { PublicBaseUrl = new Uri("https://x.example/"), CurrentTokenKeyId = "z", TokenKeys = new() { ["a"] = KeyA } });
        var plainHttp = validator.Validate(null, new NewsletterOptions { PublicBaseUrl = new Uri("http://x.example/"), CurrentTokenKeyId = "a", TokenKeys = new() { ["a"] = KeyA } });

        Assert.Contains("Newsletter:TokenKeys:a", tooShort.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain(shortKey, tooShort.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("CurrentTokenKeyId", missing.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("https", plainHttp.FailureMessage, StringComparison.Ordinal);
    }
}
