namespace Cafetalk.Integrations.Sandbox.Contracts;

/// <summary>
/// One request as a contract sees it: method, the provider's own path (simulator prefix stripped), raw query
/// string, content type, body text, header names (never values), the Authorization scheme ("Bearer", "Basic",
/// "none") and, when the simulator knows them, the scopes of the token used (null: not checked).
/// </summary>
public sealed record ContractRequest(
    string Method,
    string Path,
    string Query,
    string? ContentType,
    string Body,
    IReadOnlyCollection<string> HeaderNames,
    string AuthScheme,
    IReadOnlyCollection<string>? TokenScopes = null)
{
    /// <summary>
    /// The scheme of an Authorization header value: its first word when a credential follows it, "none" when there
    /// is no header, "unknown" otherwise (a bare credential must never be mistaken for a scheme and printed).
    /// </summary>
    public static string SchemeOf(string? authorization)
    {
        var value = authorization?.Trim() ?? string.Empty;
        if (value.Length == 0)
        {
            return "none";
        }

        var space = value.IndexOf(' ', StringComparison.Ordinal);
        var word = space < 0 ? string.Empty : value[..space];
        return word.Length is > 0 and <= 16 && word.All(char.IsAsciiLetter) ? word : "unknown";
    }
}
