using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>
/// Keys of erasure: <see cref="MemberKey"/> keys every id derived from a member id (receipt ids, ledger correlation
/// ids, tombstones), so nobody without it can confirm a guessed member id; <see cref="PrivacyOfficePublicKey"/>
/// seals an erased member's pseudonym mapping for the privacy office, who alone holds the private key.
/// In Azure the member key is a Key Vault reference; the public key is a plain setting (it is not secret).
/// </summary>
public sealed class ErasureKeysOptions
{
    public const string Section = "Erasure";

    /// <summary>Base64 of at least 32 random bytes: the HMAC-SHA256 key for ids derived from member ids.</summary>
    [Required]
    public string MemberKey { get; set; } = string.Empty;

    /// <summary>Base64 of the privacy office's RSA public key (SubjectPublicKeyInfo DER, at least 3072 bits).</summary>
    [Required]
    public string PrivacyOfficePublicKey { get; set; } = string.Empty;
}

/// <summary>Checks the erasure keys at start, naming the setting that is wrong and never its value.</summary>
public sealed class ErasureKeysOptionsValidator : IValidateOptions<ErasureKeysOptions>
{
    public const int MinimumRsaBits = 3072;

    public ValidateOptionsResult Validate(string? name, ErasureKeysOptions options)
    {
        if (KeyRing.KeyProblem($"{ErasureKeysOptions.Section}:{nameof(options.MemberKey)}", options.MemberKey) is { } problem)
        {
            return ValidateOptionsResult.Fail(problem);
        }

        if (KeyRing.DecodeKey(options.PrivacyOfficePublicKey) is not { } spki)
        {
            return ValidateOptionsResult.Fail($"{ErasureKeysOptions.Section}:PrivacyOfficePublicKey must be base64 of an RSA public key (SubjectPublicKeyInfo).");
        }

        try
        {
            using var rsa = RSA.Create();
            rsa.ImportSubjectPublicKeyInfo(spki, out _);
            return rsa.KeySize >= MinimumRsaBits
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail($"{ErasureKeysOptions.Section}:PrivacyOfficePublicKey must be an RSA key of at least {MinimumRsaBits} bits.");
        }
        catch (CryptographicException)
        {
            return ValidateOptionsResult.Fail($"{ErasureKeysOptions.Section}:PrivacyOfficePublicKey must be base64 of an RSA public key (SubjectPublicKeyInfo).");
        }
    }
}
