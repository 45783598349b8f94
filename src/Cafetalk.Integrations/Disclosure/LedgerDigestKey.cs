using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>A digest line's signature and the exact key version that made it.</summary>
public sealed record DigestSignature(string KeyId, string Algorithm, byte[] Value);

/// <summary>
/// Signs ledger digest lines (ECDSA P-256, ES256) and checks them with the public key only. Whoever can write the
/// ledger table and append to the digest log cannot produce a line this key accepts.
/// </summary>
public abstract class LedgerDigestKey
{
    public const string Algorithm = "ES256";

    /// <summary>Signs a SHA-256 hash.</summary>
    public abstract Task<DigestSignature> SignAsync(byte[] sha256, CancellationToken cancellationToken);

    /// <summary>The public key of <paramref name="keyId"/>, or null when that id is not one of this key's versions.</summary>
    protected abstract Task<ECDsa?> PublicKeyAsync(string keyId, CancellationToken cancellationToken);

    /// <summary>Null when the signature holds; otherwise why not.</summary>
    public async Task<string?> CheckAsync(byte[] sha256, string? keyId, string? algorithm, string? signature, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(keyId) || string.IsNullOrEmpty(signature))
        {
            return "the line is not signed";
        }

        if (algorithm != Algorithm)
        {
            return $"the line is signed with {algorithm ?? "no algorithm"}, not {Algorithm}";
        }

        var publicKey = await PublicKeyAsync(keyId, cancellationToken);
        if (publicKey is null)
        {
            return $"the line is signed by key {keyId}, which is not the ledger's digest key";
        }

        byte[] value;
        try
        {
            value = Base64Url.DecodeFromChars(signature);
        }
        catch (FormatException)
        {
            return "the signature is not base64url";
        }

        return publicKey.VerifyHash(sha256, value) ? null : "the signature does not verify";
    }
}

/// <summary>
/// A key made in memory for this process: the Sandbox's and the tests' stand-in for the Key Vault key. Lines it signed
/// cannot be checked by another process, as a lost key would be. Not disposable: the shared one outlives every
/// service provider that hands it out.
/// </summary>
public sealed class EphemeralLedgerDigestKey : LedgerDigestKey
{
    private static readonly Lazy<EphemeralLedgerDigestKey> ForThisProcess = new(() => new EphemeralLedgerDigestKey());

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public EphemeralLedgerDigestKey()
    {
        KeyId = "ephemeral:" + Convert.ToHexStringLower(SHA256.HashData(_key.ExportSubjectPublicKeyInfo()))[..16];
    }

    /// <summary>The one key of this process: every host built in it (CLI commands, tests) signs and checks with it.</summary>
    public static EphemeralLedgerDigestKey Shared => ForThisProcess.Value;

    public string KeyId { get; }

    public override Task<DigestSignature> SignAsync(byte[] sha256, CancellationToken cancellationToken) =>
        Task.FromResult(new DigestSignature(KeyId, Algorithm, _key.SignHash(sha256)));

    protected override Task<ECDsa?> PublicKeyAsync(string keyId, CancellationToken cancellationToken) =>
        Task.FromResult<ECDsa?>(keyId == KeyId ? _key : null);
}

/// <summary>
/// The Key Vault key named by <c>Ledger:DigestSigning:KeyId</c> (versionless key URI). The app's identity may sign and
/// read the public key (role Key Vault Crypto User on this key) but the key is not exportable, so nobody holds its
/// private half. Calls the Key Vault REST operations <c>get key</c> (current version) and <c>sign</c> (api-version 7.4) directly: the
/// Azure.Security.KeyVault.Keys package is not in this project's package registry. Verification is local, with the
/// public key of the version named in the line, and only for versions of the configured key.
/// </summary>
public sealed class KeyVaultLedgerDigestKey(HttpClient http, TokenCredential credential, Uri keyId) : LedgerDigestKey
{
    public const string HttpClientName = "KeyVaultLedgerDigestKey";
    private const string ApiVersion = "api-version=7.4";
    private static readonly string[] Scopes = ["https://vault.azure.net/.default"];

    private readonly ConcurrentDictionary<string, ECDsa> _publicKeys = new(StringComparer.Ordinal);
    private readonly string _keyPrefix = keyId.AbsoluteUri.TrimEnd('/') + "/";

    public override async Task<DigestSignature> SignAsync(byte[] sha256, CancellationToken cancellationToken)
    {
        // The sign operation names a key version: read the current one (and keep its public half for the checks).
        using var current = new HttpRequestMessage(HttpMethod.Get, $"{_keyPrefix.TrimEnd('/')}?{ApiVersion}");
        var bundle = await SendAsync<KeyBundle>(current, "get key", cancellationToken);
        var kid = bundle.Key?.Kid;
        if (kid is null || !IsVersionOfOurKey(kid) || ToEcdsa(bundle.Key!) is not { } publicKey)
        {
            throw new InvalidOperationException("Key Vault answered the get key operation without a P-256 version of the ledger digest key.");
        }

        _publicKeys.TryAdd(kid, publicKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{kid}/sign?{ApiVersion}")
        {
            Content = JsonContent.Create(new KeyOperationRequest(Algorithm, Base64Url.EncodeToString(sha256))),
        };
        var result = await SendAsync<KeyOperationResult>(request, "sign", cancellationToken);
        if (result.Kid != kid || result.Value is null)
        {
            throw new InvalidOperationException("Key Vault answered the sign operation without the key version or the signature.");
        }

        return new DigestSignature(kid, Algorithm, Base64Url.DecodeFromChars(result.Value));
    }

    protected override async Task<ECDsa?> PublicKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        // Only versions of our own key: a line naming a key in another vault is refused, not fetched.
        if (!IsVersionOfOurKey(keyId))
        {
            return null;
        }

        if (_publicKeys.TryGetValue(keyId, out var cached))
        {
            return cached;
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, $"{keyId}?{ApiVersion}");
        var bundle = await SendAsync<KeyBundle>(request, "get key", cancellationToken);
        return bundle.Key is { } key && ToEcdsa(key) is { } ecdsa ? _publicKeys.GetOrAdd(keyId, ecdsa) : null;
    }

    private bool IsVersionOfOurKey(string keyId) =>
        keyId.StartsWith(_keyPrefix, StringComparison.Ordinal) && keyId.Length > _keyPrefix.Length && !keyId[_keyPrefix.Length..].Contains('/', StringComparison.Ordinal);

    private static ECDsa? ToEcdsa(JsonWebKey key) => key is { Kty: "EC" or "EC-HSM", Crv: "P-256", X: not null, Y: not null }
        ? ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = Base64Url.DecodeFromChars(key.X), Y = Base64Url.DecodeFromChars(key.Y) },
        })
        : null;

    private async Task<T> SendAsync<T>(HttpRequestMessage request, string operation, CancellationToken cancellationToken)
    {
        var token = await credential.GetTokenAsync(new TokenRequestContext(Scopes), cancellationToken);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            // Status only: Key Vault error bodies can echo the request.
            throw new InvalidOperationException($"Key Vault refused the ledger digest key's {operation} operation with status {(int)response.StatusCode}.");
        }

        return await response.Content.ReadFromJsonAsync<T>(cancellationToken)
            ?? throw new InvalidOperationException($"Key Vault answered the {operation} operation with an empty body.");
    }

    private sealed record KeyOperationRequest([property: JsonPropertyName("alg")] string Alg, [property: JsonPropertyName("value")] string Value);

    private sealed record KeyOperationResult([property: JsonPropertyName("kid")] string? Kid, [property: JsonPropertyName("value")] string? Value);

    private sealed record KeyBundle([property: JsonPropertyName("key")] JsonWebKey? Key);

    private sealed record JsonWebKey(
        [property: JsonPropertyName("kid")] string? Kid,
        [property: JsonPropertyName("kty")] string? Kty,
        [property: JsonPropertyName("crv")] string? Crv,
        [property: JsonPropertyName("x")] string? X,
        [property: JsonPropertyName("y")] string? Y);
}

/// <summary>Settings of section <c>Ledger:DigestSigning</c>.</summary>
public sealed class LedgerDigestSigningOptions
{
    public const string SectionName = "Ledger:DigestSigning";

    /// <summary>The Key Vault key's versionless URI (https://VAULT.vault.azure.net/keys/NAME); unset means a per-process key (Sandbox, tests).</summary>
    public Uri? KeyId { get; set; }

    /// <summary>The key chosen by the settings: Key Vault when <see cref="KeyId"/> is set, with the app's managed identity.</summary>
    internal static LedgerDigestKey Create(IServiceProvider services)
    {
        var options = services.GetService(typeof(IOptions<LedgerDigestSigningOptions>)) as IOptions<LedgerDigestSigningOptions>;
        if (options?.Value.KeyId is not { } keyId)
        {
            return EphemeralLedgerDigestKey.Shared;
        }

        var configuration = services.GetService(typeof(IConfiguration)) as IConfiguration;
        var clientId = configuration?["AzureWebJobsStorage:clientId"];
        TokenCredential credential = string.IsNullOrWhiteSpace(clientId)
            ? new DefaultAzureCredential()
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
        var factory = (IHttpClientFactory)services.GetService(typeof(IHttpClientFactory))!;
        return new KeyVaultLedgerDigestKey(factory.CreateClient(KeyVaultLedgerDigestKey.HttpClientName), credential, keyId);
    }
}
