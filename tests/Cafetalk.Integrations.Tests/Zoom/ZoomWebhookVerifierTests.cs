using System.Text;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Cafetalk.Integrations.Tests.Zoom;

public sealed class ZoomWebhookVerifierTests
{
    private const string Secret = "test-secret-token";
    private const string Body = """{"event":"meeting.ended","event_ts":1658940994914,"payload":{"account_id":"acc","object":{"id":85012345678,"uuid":"abc==","host_id":"host1"}}}""";
    private const string Timestamp = "1658940994";

    // Computed outside .NET: printf '%s' "v0:1658940994:$BODY" | openssl dgst -sha256 -hmac test-secret-token
    private const string OpensslSignature = "v0=ab3ae105cd25f5108ed86a4c9acc52fc1cecd2aac26c3deeb1ddddae36534d1d";

    private static readonly DateTimeOffset SentAt = DateTimeOffset.FromUnixTimeSeconds(1658940994);

    private static ZoomWebhookVerifier CreateSut(DateTimeOffset now) =>
        new(Options.Create(new ZoomOptions { WebhookSecretToken = Secret }), new FakeTimeProvider(now));

    [Fact]
    public void Verify_SignatureComputedByOpenssl_IsValid() =>
        Assert.Equal(ZoomSignatureCheck.Valid, CreateSut(SentAt.AddSeconds(30)).Verify(Timestamp, OpensslSignature, Encoding.UTF8.GetBytes(Body)));

    [Fact]
    public void Verify_BodyChangedByOneByte_IsBadSignature() =>
        Assert.Equal(ZoomSignatureCheck.BadSignature, CreateSut(SentAt).Verify(Timestamp, OpensslSignature, Encoding.UTF8.GetBytes(Body.Replace("host1", "host2", StringComparison.Ordinal))));

    [Fact]
    public void Verify_SignedWithAnotherSecret_IsBadSignature()
    {
        var verifier = new ZoomWebhookVerifier(Options.Create(new ZoomOptions { WebhookSecretToken = "another-secret" }), new FakeTimeProvider(SentAt));
        Assert.Equal(ZoomSignatureCheck.BadSignature, verifier.Verify(Timestamp, OpensslSignature, Encoding.UTF8.GetBytes(Body)));
    }

    [Fact]
    public void Verify_SignedOverAnotherTimestamp_IsBadSignature() =>
        Assert.Equal(ZoomSignatureCheck.BadSignature, CreateSut(SentAt).Verify("1658940995", OpensslSignature, Encoding.UTF8.GetBytes(Body)));

    [Theory]
    [InlineData(-301)]
    [InlineData(301)]
    public void Verify_TimestampMoreThanFiveMinutesAway_IsStale(int offsetSeconds) =>
        Assert.Equal(ZoomSignatureCheck.StaleTimestamp, CreateSut(SentAt.AddSeconds(-offsetSeconds)).Verify(Timestamp, OpensslSignature, Encoding.UTF8.GetBytes(Body)));

    [Fact]
    public void Verify_TimestampJustInsideFiveMinutes_IsValid() =>
        Assert.Equal(ZoomSignatureCheck.Valid, CreateSut(SentAt.AddSeconds(299)).Verify(Timestamp, OpensslSignature, Encoding.UTF8.GetBytes(Body)));

    [Theory]
    [InlineData(null, OpensslSignature)]
    [InlineData(Timestamp, null)]
    [InlineData("", "")]
    public void Verify_MissingHeader_IsMissingHeaders(string? timestamp, string? signature) =>
        Assert.Equal(ZoomSignatureCheck.MissingHeaders, CreateSut(SentAt).Verify(timestamp, signature, Encoding.UTF8.GetBytes(Body)));

    [Theory]
    [InlineData("not-a-number")]
    [InlineData("-5")]
    [InlineData("99999999999999999999")]
    public void Verify_UnreadableTimestamp_IsStale(string timestamp) =>
        Assert.Equal(ZoomSignatureCheck.StaleTimestamp, CreateSut(SentAt).Verify(timestamp, OpensslSignature, Encoding.UTF8.GetBytes(Body)));

    [Fact]
    public void Verify_UppercaseHexSignature_IsBadSignature() =>
        Assert.Equal(ZoomSignatureCheck.BadSignature, CreateSut(SentAt).Verify(Timestamp, "v0=" + OpensslSignature[3..].ToUpperInvariant(), Encoding.UTF8.GetBytes(Body)));

    [Fact]
    public void EncryptToken_MatchesOpensslHmacOfPlainToken() =>
        // printf '%s' qgg8vlvZRS6UYooatFL8Aw | openssl dgst -sha256 -hmac test-secret-token
        Assert.Equal("9c8ad56737c19db2904b301c0781e86857e999f39f07727668cf62a5e7e298c8", CreateSut(SentAt).EncryptToken("qgg8vlvZRS6UYooatFL8Aw"));
}
