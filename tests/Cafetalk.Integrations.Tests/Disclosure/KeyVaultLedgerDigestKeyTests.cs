using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Azure.Core;
using Cafetalk.Integrations.Disclosure;

namespace Cafetalk.Integrations.Tests.Disclosure;

/// <summary>
/// The Key Vault digest key against a stub answering as the Key Vault REST reference documents (api-version 7.4):
/// GET {key} answers the current version as {key: JWK with kid}; POST {key}/{version}/sign with {alg, value} (base64url)
/// answers {kid, value}.
/// Sources: https://learn.microsoft.com/en-us/rest/api/keyvault/keys/sign/sign and .../keys/get-key/get-key.
/// </summary>
public sealed class KeyVaultLedgerDigestKeyTests
{
    private static readonly Uri KeyId = new("https://kv-test.vault.azure.net/keys/ledger-digest");

    [Fact]
    public async Task Sign_PostsTheHashWithABearerToken_AndTheSignatureChecksWithThePublicKeyOnly()
    {
        var vault = new StubVault();
        var key = new KeyVaultLedgerDigestKey(new HttpClient(vault), new StaticToken("tok-1"), KeyId);
        var hash = SHA256.HashData("line"u8);

        var signature = await key.SignAsync(hash, CancellationToken.None);
        var check = await key.CheckAsync(hash, signature.KeyId, signature.Algorithm, Base64Url.EncodeToString(signature.Value), CancellationToken.None);
        var wrongHash = await key.CheckAsync(SHA256.HashData("other"u8), signature.KeyId, signature.Algorithm, Base64Url.EncodeToString(signature.Value), CancellationToken.None);

        var current = vault.Requests[0];
        Assert.Equal((HttpMethod.Get, "https://kv-test.vault.azure.net/keys/ledger-digest?api-version=7.4"), (current.Method, current.Uri));
        var sign = vault.Requests[1];
        Assert.Equal((HttpMethod.Post, "https://kv-test.vault.azure.net/keys/ledger-digest/v1/sign?api-version=7.4"), (sign.Method, sign.Uri));
        Assert.Equal("Bearer tok-1", sign.Authorization);
        Assert.Equal(("ES256", Base64Url.EncodeToString(hash)), (sign.Body!["alg"]!.GetValue<string>(), sign.Body["value"]!.GetValue<string>()));
        Assert.Equal($"{KeyId}/v1", signature.KeyId);
        Assert.Null(check);
        Assert.Equal("the signature does not verify", wrongHash);
        // The checks used the public half read with the current version, locally: no verify call went to the vault.
        Assert.Equal(2, vault.Requests.Count);
    }

    [Theory]
    [InlineData("https://kv-other.vault.azure.net/keys/ledger-digest/v1")]
    [InlineData("https://kv-test.vault.azure.net/keys/ledger-digest-2/v1")]
    [InlineData("https://kv-test.vault.azure.net/keys/ledger-digest/v1/extra")]
    public async Task Check_KeyIdOutsideTheConfiguredKey_IsRefusedWithoutAskingAnyVault(string foreignKeyId)
    {
        var vault = new StubVault();
        var key = new KeyVaultLedgerDigestKey(new HttpClient(vault), new StaticToken("tok-1"), KeyId);

        var problem = await key.CheckAsync(new byte[32], foreignKeyId, "ES256", Base64Url.EncodeToString(new byte[64]), CancellationToken.None);

        Assert.Equal($"the line is signed by key {foreignKeyId}, which is not the ledger's digest key", problem);
        Assert.Empty(vault.Requests);
    }

    [Fact]
    public async Task Sign_VaultRefuses_ThrowsNamingTheStatusOnly()
    {
        var vault = new StubVault { Status = HttpStatusCode.Forbidden };
        var key = new KeyVaultLedgerDigestKey(new HttpClient(vault), new StaticToken("tok-1"), KeyId);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => key.SignAsync(new byte[32], CancellationToken.None));

        Assert.Equal("Key Vault refused the ledger digest key's get key operation with status 403.", error.Message);
    }

    private sealed record SeenRequest(HttpMethod Method, string Uri, string? Authorization, JsonNode? Body);

    private sealed class StubVault : HttpMessageHandler
    {
        private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        public List<SeenRequest> Requests { get; } = [];

        public HttpStatusCode Status { get; init; } = HttpStatusCode.OK;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content is null ? null : JsonNode.Parse(await request.Content.ReadAsStringAsync(cancellationToken));
            Requests.Add(new(request.Method, request.RequestUri!.AbsoluteUri, request.Headers.Authorization?.ToString(), body));
            if (Status != HttpStatusCode.OK)
            {
                return new HttpResponseMessage(Status) { Content = new StringContent("""{"error":{"code":"Forbidden"}}""") };
            }

            var q = _key.ExportParameters(false).Q;
            JsonObject answer = request.Method == HttpMethod.Post
                ? new() { ["kid"] = $"{KeyId}/v1", ["value"] = Base64Url.EncodeToString(_key.SignHash(Base64Url.DecodeFromChars(body!["value"]!.GetValue<string>()))) }
                : new() { ["key"] = new JsonObject { ["kid"] = $"{KeyId}/v1", ["kty"] = "EC", ["crv"] = "P-256", ["x"] = Base64Url.EncodeToString(q.X), ["y"] = Base64Url.EncodeToString(q.Y) } };
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(answer.ToJsonString(), System.Text.Encoding.UTF8, "application/json") };
        }

        protected override void Dispose(bool disposing)
        {
            _key.Dispose();
            base.Dispose(disposing);
        }
    }

    private sealed class StaticToken(string token) : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => new(token, DateTimeOffset.MaxValue);

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) => ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
