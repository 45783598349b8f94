using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Cafetalk.Integrations.Sandbox;

/// <summary>
/// One request a simulator received, as <c>--wire-log</c> writes it: what crossed the wire, secrets redacted;
/// header names and the Authorization scheme ("Bearer", "Basic", "none") but never a header's value.
/// </summary>
public sealed record WireRequest(
    [property: JsonPropertyName("provider")] string Provider,
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("query")] string Query,
    [property: JsonPropertyName("body")] string Body,
    [property: JsonPropertyName("contentType")] string? ContentType,
    [property: JsonPropertyName("headerNames")] IReadOnlyList<string> HeaderNames,
    [property: JsonPropertyName("authScheme")] string AuthScheme);

/// <summary>
/// Turns the simulators' request records into wire-log lines. Credentials are replaced by "[redacted]":
/// client secrets, codes and verifiers, access and refresh tokens. Header values are never recorded (names only).
/// Personal data that was disclosed stays visible: the log exists to show exactly that.
/// </summary>
public static partial class WireLog
{
    private const string Redacted = "[redacted]";

    // The log is read by people: keep quotes and non-ASCII (Japanese) as they are.
    private static readonly JsonSerializerOptions LineJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly HashSet<string> SecretNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "client_secret", "code", "code_verifier", "refresh_token", "access_token", "token", "download_token", "download_access_token", "password", "assertion",
    };

    [GeneratedRegex(@"(?<=(^|[?&])(client_secret|code|code_verifier|refresh_token|access_token|token|download_token|download_access_token|password|assertion)=)[^&]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretFormValue();

    public static WireRequest Line(string provider, ObservedRequest request) =>
        new(provider, request.Method, request.Path, RedactForm(request.Query), RedactBody(request.Body), request.ContentType, request.HeaderNames, request.AuthScheme);

    public static async Task WriteAsync(string file, IEnumerable<WireRequest> requests, CancellationToken cancellationToken = default)
    {
        await using var writer = new StreamWriter(file, append: false);
        foreach (var request in requests)
        {
            await writer.WriteLineAsync(JsonSerializer.Serialize(request, LineJson).AsMemory(), cancellationToken);
        }
    }

    private static string RedactForm(string text) => SecretFormValue().Replace(text, Redacted);

    private static string RedactBody(string body)
    {
        if (body.Length == 0)
        {
            return body;
        }

        try
        {
            var node = JsonNode.Parse(body);
            Redact(node);
            return node?.ToJsonString() ?? body;
        }
        catch (JsonException)
        {
            return RedactForm(body);
        }
    }

    private static void Redact(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj.ToList())
                {
                    if (SecretNames.Contains(name) && value is JsonValue)
                    {
                        obj[name] = Redacted;
                    }
                    else if (value is JsonValue text && text.TryGetValue<string>(out var s) && SecretFormValue().IsMatch(s))
                    {
                        // A URL inside a value (Vimeo's upload.link) can carry a token in its query.
                        obj[name] = SecretFormValue().Replace(s, Redacted);
                    }
                    else
                    {
                        Redact(value);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Redact(item);
                }

                break;
        }
    }
}
