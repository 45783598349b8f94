using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>An erased member's pseudonym mapping as the privacy office opens it.</summary>
public sealed record SubjectMapping(string MemberId, string SubjectRef);

/// <summary>Why a sealed mapping could not be opened. Never carries the mapping.</summary>
public sealed class SealedSubjectException(string message) : Exception(message);

/// <summary>
/// Seals a member ↔ pseudonym mapping for the privacy office: a fresh AES-256-GCM key encrypts it, and RSA-OAEP
/// (SHA-256) wraps that key under the office's public key. The app holds only the public key, so it can seal but
/// never open. The erasure id is the associated data: a sealed value copied onto another row does not open.
/// Format: <c>v1.{base64url(wrapped key)}.{base64url(nonce | ciphertext | tag)}</c>.
/// </summary>
public static class SealedSubject
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    public static string Seal(ReadOnlySpan<byte> publicKeySpki, string erasureId, SubjectMapping mapping)
    {
        using var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(publicKeySpki, out _);
        var key = RandomNumberGenerator.GetBytes(32);
        try
        {
            var plain = JsonSerializer.SerializeToUtf8Bytes(mapping, JsonSerializerOptions.Web);
            var sealedBytes = new byte[NonceSize + plain.Length + TagSize];
            RandomNumberGenerator.Fill(sealedBytes.AsSpan(0, NonceSize));
            using (var aes = new AesGcm(key, TagSize))
            {
                aes.Encrypt(sealedBytes.AsSpan(0, NonceSize), plain, sealedBytes.AsSpan(NonceSize, plain.Length), sealedBytes.AsSpan(NonceSize + plain.Length), Encoding.UTF8.GetBytes(erasureId));
            }

            return $"v1.{Base64Url.EncodeToString(rsa.Encrypt(key, RSAEncryptionPadding.OaepSHA256))}.{Base64Url.EncodeToString(sealedBytes)}";
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Opens a sealed mapping with the privacy office's private key (PEM); throws <see cref="SealedSubjectException"/> otherwise.</summary>
    public static SubjectMapping Open(string privateKeyPem, string erasureId, string sealedValue)
    {
        var parts = sealedValue.Split('.');
        if (parts.Length != 3 || parts[0] != "v1")
        {
            throw new SealedSubjectException("The sealed mapping is not in the v1 format.");
        }

        using var rsa = RSA.Create();
        byte[] key;
        try
        {
            rsa.ImportFromPem(privateKeyPem);
            key = rsa.Decrypt(Base64Url.DecodeFromChars(parts[1]), RSAEncryptionPadding.OaepSHA256);
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or ArgumentException)
        {
            throw new SealedSubjectException("The sealed mapping does not open with this private key.");
        }

        try
        {
            var sealedBytes = Base64Url.DecodeFromChars(parts[2]);
            if (sealedBytes.Length < NonceSize + TagSize)
            {
                throw new SealedSubjectException("The sealed mapping is truncated.");
            }

            var cipherLength = sealedBytes.Length - NonceSize - TagSize;
            var plain = new byte[cipherLength];
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize, cipherLength), sealedBytes.AsSpan(NonceSize + cipherLength), plain, Encoding.UTF8.GetBytes(erasureId));
            return JsonSerializer.Deserialize<SubjectMapping>(plain, JsonSerializerOptions.Web)
                ?? throw new SealedSubjectException("The sealed mapping is empty.");
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or JsonException)
        {
            throw new SealedSubjectException("The sealed mapping was altered or belongs to another row.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
