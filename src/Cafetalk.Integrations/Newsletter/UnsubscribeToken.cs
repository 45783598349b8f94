using System.Security.Cryptography;
using System.Buffers.Text;
using System.Text;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Newsletter;

/// <summary>
/// What a verified token names: a random link id (see <see cref="UnsubscribeLinks"/>; tokens mailed before link ids
/// carry the member's pseudonym instead) and the list. Never the member id.
/// </summary>
public sealed record UnsubscribeTarget(string Reference, string List, string KeyId)
{
    /// <summary>An id for the consent history that identifies the token without storing it.</summary>
    public string TokenId { get; init; } = string.Empty;
}

/// <summary>
/// Opaque, URL-safe unsubscribe tokens: <c>base64url(1 | keyId | reference | list | HMAC-SHA256)</c>, each
/// part length-prefixed. Verified in constant time; any key still configured verifies, so keys rotate by adding
/// a new current key and removing the old one once its mails are old enough.
/// </summary>
public sealed class UnsubscribeTokens(IOptions<NewsletterOptions> options)
{
    private const byte Version = 1;
    private const int MacSize = 32;
    public const int MaxTokenLength = 400;

    /// <summary>A token for <paramref name="reference"/>: a link id from <see cref="UnsubscribeLinks"/>.</summary>
    public string Issue(string reference, string list)
    {
        var keyId = options.Value.CurrentTokenKeyId;
        var body = new List<byte> { Version };
        foreach (var part in new[] { keyId, reference, list })
        {
            var bytes = Encoding.UTF8.GetBytes(part);
            if (bytes.Length is 0 or > 255)
            {
                throw new ArgumentException("Token parts must be 1-255 bytes.", nameof(reference));
            }

            body.Add((byte)bytes.Length);
            body.AddRange(bytes);
        }

        var mac = HMACSHA256.HashData(Key(keyId)!, body.ToArray());
        return Base64Url.EncodeToString([.. body, .. mac]);
    }

    /// <summary>The target of a genuine, unretired token; null for anything else (tampered, truncated, foreign).</summary>
    public UnsubscribeTarget? Verify(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength)
        {
            return null;
        }

        byte[] raw;
        try
        {
            raw = Base64Url.DecodeFromChars(token);
        }
        catch (FormatException)
        {
            return null;
        }

        if (raw.Length < 1 + 3 + MacSize || raw[0] != Version)
        {
            return null;
        }

        var parts = new string[3];
        var offset = 1;
        for (var i = 0; i < parts.Length; i++)
        {
            if (offset >= raw.Length - MacSize)
            {
                return null;
            }

            int length = raw[offset++];
            if (length == 0 || offset + length > raw.Length - MacSize)
            {
                return null;
            }

            parts[i] = Encoding.UTF8.GetString(raw, offset, length);
            offset += length;
        }

        if (offset != raw.Length - MacSize || Key(parts[0]) is not { } key)
        {
            return null;
        }

        var expected = HMACSHA256.HashData(key, raw.AsSpan(0, offset));
        if (!CryptographicOperations.FixedTimeEquals(expected, raw.AsSpan(offset)))
        {
            return null;
        }

        var tokenId = Convert.ToHexStringLower(SHA256.HashData(raw))[..16];
        return new UnsubscribeTarget(parts[1], parts[2], parts[0]) { TokenId = tokenId };
    }

    private byte[]? Key(string keyId) =>
        options.Value.TokenKeys.TryGetValue(keyId, out var value) ? KeyRing.DecodeKey(value) : null;
}
