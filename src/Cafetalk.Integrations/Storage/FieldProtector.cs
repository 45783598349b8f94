using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Buffers.Text;
using System.Text;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Storage;

/// <summary>
/// Keys for encrypting personal values at rest (newsletter emails, OAuth refresh tokens): key id → base64 of
/// 32 random bytes. New values use <see cref="CurrentKeyId"/>; older keys stay until every value is rewrapped.
/// In Azure the values are Key Vault references.
/// </summary>
public sealed class FieldProtectionOptions
{
    public const string Section = "FieldProtection";

    [Required]
    public string CurrentKeyId { get; set; } = string.Empty;

    [Required]
    [MinLength(1)]
    public Dictionary<string, string> Keys { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Checks the key ring at start, naming the setting that is wrong and never the key.</summary>
public sealed class FieldProtectionOptionsValidator : IValidateOptions<FieldProtectionOptions>
{
    public ValidateOptionsResult Validate(string? name, FieldProtectionOptions options) =>
        KeyRing.RingProblem(FieldProtectionOptions.Section, nameof(options.CurrentKeyId), options.CurrentKeyId, nameof(options.Keys), options.Keys, exactly: true) is { } problem
            ? ValidateOptionsResult.Fail(problem)
            : ValidateOptionsResult.Success;
}

/// <summary>Why a protected value could not be opened. Never carries the value.</summary>
public sealed class FieldProtectionException(string message) : Exception(message);

/// <summary>
/// AES-256-GCM for one personal value at rest. The row key is the associated data, so a ciphertext copied onto
/// another member's row does not open; the key id travels with the value so keys can rotate.
/// Format: <c>v1.{keyId}.{base64url(nonce | ciphertext | tag)}</c>.
/// </summary>
public sealed class FieldProtector(IOptions<FieldProtectionOptions> options)
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    public string Protect(string plaintext, string associatedData)
    {
        var keyId = options.Value.CurrentKeyId;
        var key = Key(keyId);
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var sealedBytes = new byte[NonceSize + plain.Length + TagSize];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceSize, plain.Length), sealedBytes.AsSpan(NonceSize + plain.Length), Encoding.UTF8.GetBytes(associatedData));
        return $"v1.{keyId}.{Base64Url.EncodeToString(sealedBytes)}";
    }

    public string Unprotect(string protectedValue, string associatedData)
    {
        var parts = protectedValue.Split('.');
        if (parts.Length != 3 || parts[0] != "v1")
        {
            throw new FieldProtectionException("The protected value is not in the v1 format.");
        }

        byte[] sealedBytes;
        try
        {
            sealedBytes = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (FormatException)
        {
            throw new FieldProtectionException("The protected value is not valid base64url.");
        }

        if (sealedBytes.Length < NonceSize + TagSize)
        {
            throw new FieldProtectionException("The protected value is truncated.");
        }

        var cipherLength = sealedBytes.Length - NonceSize - TagSize;
        var plain = new byte[cipherLength];
        try
        {
            using var aes = new AesGcm(Key(parts[1]), TagSize);
            aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize, cipherLength), sealedBytes.AsSpan(NonceSize + cipherLength), plain, Encoding.UTF8.GetBytes(associatedData));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new FieldProtectionException($"The protected value does not open under key '{parts[1]}' for this row: it was altered or belongs to another row.");
        }

        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>True when the value was sealed under an older key and should be rewritten.</summary>
    public bool NeedsRewrap(string protectedValue) => !protectedValue.StartsWith($"v1.{options.Value.CurrentKeyId}.", StringComparison.Ordinal);

    private byte[] Key(string keyId) =>
        options.Value.Keys.TryGetValue(keyId, out var value) && KeyRing.UsableKey(value, exactly: true) is { } key
            ? key
            : throw new FieldProtectionException($"Encryption key '{keyId}' is not configured (retired or missing).");
}
