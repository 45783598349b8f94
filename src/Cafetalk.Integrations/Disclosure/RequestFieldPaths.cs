using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>
/// Reads the field paths a request would put on the wire: JSON and form bodies, query parameter names. Values
/// are never kept; a key that does not look like a field name (it could be an email) is reported masked.
/// </summary>
internal static partial class RequestFieldPaths
{
    public const string MaskedKey = "<unexpected-key>";

    /// <summary>Field paths of a body; throws <see cref="UninspectableBodyException"/> when the body cannot be checked.</summary>
    public static async Task<IReadOnlyList<string>> ReadBodyAsync(HttpContent? content, CancellationToken cancellationToken)
    {
        if (content is null)
        {
            return [];
        }

        // Buffer first so the bytes checked are the bytes sent, even for content that serializes lazily.
        await content.LoadIntoBufferAsync(cancellationToken);
        var bytes = await content.ReadAsByteArrayAsync(cancellationToken);
        if (bytes.Length == 0)
        {
            return [];
        }

        var mediaType = content.Headers.ContentType?.MediaType;
        if (IsJson(mediaType))
        {
            return FromJson(bytes);
        }

        if (string.Equals(mediaType, "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            return FromForm(Encoding.UTF8.GetString(bytes), prefix: string.Empty);
        }

        throw new UninspectableBodyException($"body of media type '{mediaType ?? "none"}' cannot be inspected");
    }

    /// <summary>Query parameter names as <c>query:name</c>.</summary>
    public static IReadOnlyList<string> FromQuery(Uri uri)
    {
        var query = uri.Query.TrimStart('?');
        return query.Length == 0 ? [] : FromForm(query, prefix: "query:");
    }

    public static IReadOnlyList<string> FromJson(ReadOnlySpan<byte> json)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            throw new UninspectableBodyException("body is not valid JSON");
        }

        using (document)
        {
            var paths = new List<string>();
            Walk(document.RootElement, string.Empty, paths);
            return paths.Distinct(StringComparer.Ordinal).ToList();
        }
    }

    private static void Walk(JsonElement element, string path, List<string> paths)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var any = false;
                foreach (var property in element.EnumerateObject())
                {
                    any = true;
                    Walk(property.Value, Join(path, SafeKey(property.Name)), paths);
                }

                if (!any && path.Length > 0)
                {
                    paths.Add(path);
                }

                break;
            case JsonValueKind.Array:
                var itemPath = path + "[]";
                var hasItems = false;
                foreach (var item in element.EnumerateArray())
                {
                    hasItems = true;
                    Walk(item, itemPath, paths);
                }

                if (!hasItems)
                {
                    paths.Add(itemPath);
                }

                break;
            default:
                paths.Add(path);
                break;
        }
    }

    private static List<string> FromForm(string encoded, string prefix) => encoded
        .Split('&', StringSplitOptions.RemoveEmptyEntries)
        .Select(pair => Uri.UnescapeDataString(pair.Split('=', 2)[0].Replace('+', ' ')))
        .Select(key => prefix + SafeKey(key))
        .Distinct(StringComparer.Ordinal)
        .ToList();

    private static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;

    // Keys with dots or brackets would forge nested paths, and keys like emails are personal: both are masked (and so refused).
    private static string SafeKey(string key) => FieldName().IsMatch(key) ? key : MaskedKey;

    private static bool IsJson(string? mediaType) => mediaType is not null &&
        (string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase) || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex FieldName();
}

/// <summary>The body's format or syntax keeps the gate from reading its field paths, so it is refused.</summary>
internal sealed class UninspectableBodyException(string reason) : Exception(reason);
