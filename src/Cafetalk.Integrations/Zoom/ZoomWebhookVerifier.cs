using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Zoom;

/// <summary>Why a webhook's signature check passed or failed.</summary>
public enum ZoomSignatureCheck
{
    Valid,
    MissingHeaders,
    StaleTimestamp,
    BadSignature,
}

/// <summary>
/// Checks <c>x-zm-signature = v0=hex(HMAC-SHA256(secret, "v0:{x-zm-request-timestamp}:{raw body}"))</c> in
/// constant time, and refuses timestamps more than the tolerance (5 minutes) away from now.
/// </summary>
public sealed class ZoomWebhookVerifier(IOptions<ZoomOptions> options, TimeProvider time)
{
    public const string SignatureHeader = "x-zm-signature";
    public const string TimestampHeader = "x-zm-request-timestamp";
    private const string Version = "v0";

    public ZoomSignatureCheck Verify(string? timestamp, string? signature, ReadOnlySpan<byte> rawBody)
    {
        if (string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signature))
        {
            return ZoomSignatureCheck.MissingHeaders;
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            return ZoomSignatureCheck.StaleTimestamp;
        }

        var sentAt = DateTimeOffset.FromUnixTimeSeconds(seconds);
        if ((time.GetUtcNow() - sentAt).Duration() > options.Value.WebhookTimestampTolerance)
        {
            return ZoomSignatureCheck.StaleTimestamp;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(timestamp, rawBody));
        var actual = Encoding.ASCII.GetBytes(signature);
        return CryptographicOperations.FixedTimeEquals(expected, actual) ? ZoomSignatureCheck.Valid : ZoomSignatureCheck.BadSignature;
    }

    /// <summary>The answer to <c>endpoint.url_validation</c>: hex HMAC-SHA256 of the plain token under the secret.</summary>
    public string EncryptToken(string plainToken) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Secret(), Encoding.UTF8.GetBytes(plainToken)));

    private string Sign(string timestamp, ReadOnlySpan<byte> rawBody)
    {
        var prefix = Encoding.UTF8.GetBytes($"{Version}:{timestamp}:");
        var message = new byte[prefix.Length + rawBody.Length];
        prefix.CopyTo(message, 0);
        rawBody.CopyTo(message.AsSpan(prefix.Length));
        return $"{Version}={Convert.ToHexStringLower(HMACSHA256.HashData(Secret(), message))}";
    }

    private byte[] Secret() => Encoding.UTF8.GetBytes(options.Value.WebhookSecretToken);
}
