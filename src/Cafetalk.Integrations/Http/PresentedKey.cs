using System.Security.Cryptography;
using System.Text;

namespace Cafetalk.Integrations.Http;

/// <summary>A shared key a server-to-server caller presents in a header (the privacy office's, the site's), checked one way everywhere.</summary>
public static class PresentedKey
{
    /// <summary>
    /// True when the request carried exactly one value of the header (<paramref name="headerValues"/>) and it is the
    /// configured key; a key unset or shorter than <paramref name="minimumLength"/> accepts no one.
    /// </summary>
    public static bool Matches(IReadOnlyList<string?> headerValues, string? configured, int minimumLength)
    {
        if (configured is null || configured.Length < minimumLength || headerValues is not [{ } presented])
        {
            return false;
        }

        // Hashes of equal length, compared in constant time, so neither length nor prefix leaks through timing.
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(configured)));
    }
}
