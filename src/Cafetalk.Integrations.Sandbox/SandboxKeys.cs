using System.Security.Cryptography;

namespace Cafetalk.Integrations.Sandbox;

/// <summary>Random keys made for one Sandbox run, so local runs and tests need no secret from anywhere.</summary>
public sealed record SandboxKeys(string FieldProtection, string NewsletterToken, string VimeoReference, string CalendarTicket, string CalendarEventId, string PrivacyOfficeApiKey)
{
    /// <summary>The HMAC key of ids derived from member ids (erasure receipts, correlation ids, tombstones).</summary>
    public string ErasureMemberKey { get; } = NewKey();

    /// <summary>The key the Cafetalk site presents to fetch a pool-hosted lesson's start link.</summary>
    public string StartLinkSiteKey { get; } = NewKey();

    /// <summary>The privacy office's key pair for sealed mappings: the app gets the public half only.</summary>
    public PrivacyOfficeKeyPair PrivacyOffice { get; } = PrivacyOfficeKeyPair.Generate();

    public static SandboxKeys Generate() => new(NewKey(), NewKey(), NewKey(), NewKey(), NewKey(), NewKey());

    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}

/// <summary>
/// An RSA-3072 pair standing in for the privacy office's: <see cref="PublicKey"/> (base64 SubjectPublicKeyInfo) goes in
/// the app's settings, <see cref="PrivateKeyPem"/> only to the privacy office's <c>ledger unseal</c> (a file it names).
/// </summary>
public sealed record PrivacyOfficeKeyPair(string PublicKey, string PrivateKeyPem)
{
    public static PrivacyOfficeKeyPair Generate()
    {
        using var rsa = RSA.Create(3072);
        return new(Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()), rsa.ExportPkcs8PrivateKeyPem());
    }
}
