namespace Cafetalk.Integrations.Storage;

/// <summary>
/// The one check for every key in settings (encryption and HMAC keys): a key is base64 of enough random bytes, a key
/// ring maps 1-16 character ids to such keys and its current id names one of them. Each problem is one sentence that
/// names the setting (<c>Section:Name</c>) and never the key.
/// </summary>
public static class KeyRing
{
    /// <summary>What every secret key in settings holds at least: 256 bits.</summary>
    public const int MinimumKeyBytes = 32;

    public static bool IsValidKeyId(string id) =>
        id.Length is >= 1 and <= 16 && id.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    public static byte[]? DecodeKey(string? value)
    {
        try
        {
            return value is null ? null : Convert.FromBase64String(value);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The key in <paramref name="value"/> when it is base64 of at least (or, <paramref name="exactly"/>, exactly) <paramref name="bytes"/> bytes; else null.</summary>
    public static byte[]? UsableKey(string? value, int bytes = MinimumKeyBytes, bool exactly = false) =>
        DecodeKey(value) is { } key && (exactly ? key.Length == bytes : key.Length >= bytes) ? key : null;

    /// <summary>Null when <paramref name="value"/> is a usable key; otherwise the sentence naming <paramref name="setting"/>.</summary>
    public static string? KeyProblem(string setting, string? value, int bytes = MinimumKeyBytes, bool exactly = false) =>
        UsableKey(value, bytes, exactly) is null ? $"{setting} must be base64 of {(exactly ? "exactly" : "at least")} {bytes} bytes." : null;

    /// <summary>
    /// Null when <paramref name="keys"/> (setting <c>{section}:{keysName}</c>) is a usable ring and <paramref name="currentId"/>
    /// (setting <c>{section}:{currentIdName}</c>) names one of its keys; otherwise the first problem found.
    /// </summary>
    public static string? RingProblem(string section, string currentIdName, string? currentId, string keysName, IReadOnlyDictionary<string, string> keys,
        int bytes = MinimumKeyBytes, bool exactly = false)
    {
        if (currentId is null || !keys.ContainsKey(currentId))
        {
            return $"{section}:{currentIdName} names no key in {section}:{keysName}.";
        }

        foreach (var (id, value) in keys)
        {
            if (!IsValidKeyId(id))
            {
                return $"{section}:{keysName} has a key id that is not 1-16 letters, digits or '-'.";
            }

            if (KeyProblem($"{section}:{keysName}:{id}", value, bytes, exactly) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }
}
