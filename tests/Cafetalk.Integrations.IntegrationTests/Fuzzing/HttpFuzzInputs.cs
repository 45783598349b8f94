using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Cafetalk.Integrations.Fuzzing;
using FsCheck;
using FsCheck.Fluent;

namespace Cafetalk.Integrations.IntegrationTests.Fuzzing;

/// <summary>How a fuzzed Zoom webhook is signed when it is sent (timestamps must be fresh at that moment, not when generated).</summary>
public enum WebhookSigning
{
    None,
    TimestampOnly,
    SignatureOnly,
    Fresh,
    Stale,
    Future,
    WrongSecret,
    Corrupted,
    Junk,
}

/// <summary>One generated request: raw path and query (sent as is), headers, body.</summary>
public sealed record HttpFuzzRequest(
    string Method,
    string PathAndQuery,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    byte[]? Body = null,
    string? ContentType = null,
    bool Chunked = false,
    WebhookSigning Signing = WebhookSigning.None,
    string Kind = "")
{
    public string? Header(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

    public IEnumerable<string> HeaderValues(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value);

    public string Query => PathAndQuery.Contains('?', StringComparison.Ordinal) ? PathAndQuery[PathAndQuery.IndexOf('?', StringComparison.Ordinal)..] : string.Empty;

    public override string ToString() =>
        $"[{Kind}] {Method} {FuzzSettings.Show(PathAndQuery)} {string.Join(" ", Headers.Select(h => $"{h.Key}: {FuzzSettings.Show(h.Value)}"))}" +
        (Body is null ? string.Empty : $" ({ContentType ?? "no content type"}, {Body.Length} bytes{(Chunked ? ", chunked" : string.Empty)}: {FuzzSettings.Show(Encoding.UTF8.GetString(Body.AsSpan(0, Math.Min(Body.Length, 200))))})") +
        (Signing == WebhookSigning.None ? string.Empty : $" signing {Signing}");
}

/// <summary>Generators of HTTP requests: odd query encodings, headers, content types, methods, bodies.</summary>
public static class HttpFuzzInputs
{
    public static readonly string[] OtherMethods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PROPFIND", "FOO"];

    /// <summary>A value as it may appear in a query string: escaped properly, half escaped, double escaped, or escaped wrongly.</summary>
    public static Gen<string> QueryEncoded(string text) =>
        QueryEncodedUtf8(Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text.Length > 3000 ? text[..3000] : text)));

    // A URL carries bytes: unpaired surrogates have no UTF-8 form, so they are sent as U+FFFD, as a browser would.
    private static Gen<string> QueryEncodedUtf8(string value) =>
        Gen.Frequency(
            (6, Gen.Constant(Uri.EscapeDataString(value))),
            (2, Gen.Constant(Uri.EscapeDataString(value).Replace("%20", "+", StringComparison.Ordinal))),
            (1, Gen.Constant(Uri.EscapeDataString(Uri.EscapeDataString(value)))),
            (1, Gen.Constant(LowerHex(Uri.EscapeDataString(value)))),
            (2, Gen.Constant(AsciiOnly(value))),
            (2, from at in Gen.Choose(0, value.Length)
                from odd in Gen.Elements("%", "%zz", "%0", "%00", "%C0%AF", "%FF", "%E3%81", "%2F", "%26", "%3D", "%23", "%3F", "+", "%2B", "%u0041", "%%", "&", "=", ";")
                select Uri.EscapeDataString(value[..at]) + odd + Uri.EscapeDataString(value[at..])));

    /// <summary>Junk for a query value, already in query syntax.</summary>
    public static Gen<string> QueryJunk() => Junk.Text().SelectMany(QueryEncoded);

    /// <summary>A query string around the parameters that matter: repeated, empty, without '=', extra and long parameters.</summary>
    public static Gen<string> Query(params (string Name, Gen<string> Value)[] parameters) =>
        from values in Gen.CollectToArray(parameters.Select(p => p.Value))
        from keep in Gen.ArrayOf(Gen.Frequency((9, Gen.Constant(true)), (1, Gen.Constant(false))), parameters.Length)
        from repeat in Gen.Frequency((12, Gen.Constant(0)), (1, Gen.Constant(1)), (1, Gen.Constant(2)))
        from extra in Gen.ListOf(Gen.Frequency(
            (4, from name in Gen.Elements("lang", "lang", "t", "ticket", "state", "code", "error", "format", "x", "", "t[]", "T", "utm_source", "code_verifier", "__proto__")
                from value in Gen.Frequency((3, Gen.Elements("ja", "en", "JA", "fr", "")), (2, QueryJunk()))
                select $"{name}={value}"),
            (1, Gen.Elements("&", "&&", "=", "lang", "=x", ";lang=en", "a=b=c")))).Resize(3)
        from long_ in Gen.Frequency((40, Gen.Constant(string.Empty)), (1, Gen.Elements(1000, 4000, 9000).Select(n => "pad=" + new string('p', n))))
        from order in Gen.Choose(0, 1)
        let main = parameters.Select((p, i) => keep[i] ? $"{p.Name}={values[i]}" : null).Where(p => p is not null)
            .Concat(Enumerable.Range(0, repeat).Select(r => $"{parameters[0].Name}={values[0]}{(r == 0 ? "x" : string.Empty)}"))
        let all = (order == 0 ? main.Concat(extra) : extra.Concat(main)).Append(long_).Where(p => p!.Length > 0)
        select all.Any() ? "?" + string.Join("&", all) : string.Empty;

    /// <summary>The route's path as it should be, or slightly off: case, slashes, dot segments, encoded characters.</summary>
    public static Gen<string> Path(string route) => Gen.Frequency(
        (30, Gen.Constant("/api/" + route)),
        (1, Gen.Constant("/API/" + route.ToUpperInvariant())),
        (1, Gen.Constant("/api/" + route + "/")),
        (1, Gen.Constant("/api//" + route)),
        (1, Gen.Constant("/api/x/../" + route)),
        (1, Gen.Constant("/api/" + route.Replace("/", "%2F", StringComparison.Ordinal))),
        (1, Gen.Constant("/api/" + route + "%00")),
        (1, Gen.Constant("/api/" + route + ";x=y")),
        (1, Gen.Constant("/" + route)));

    /// <summary>Headers a browser, a mail scanner or an attacker might send, with planted values.</summary>
    public static Gen<List<KeyValuePair<string, string>>> Headers() =>
        from accept in Gen.Frequency(
            (3, Gen.Constant<string?>(null)),
            (3, Gen.Elements<string?>("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html", "application/json", "*/*", "application/problem+json",
                "text/html;q=0", "TEXT/HTML", "text/*", "image/webp", ";;;", "text/html, application/json")),
            (1, HeaderSafe().Select(s => (string?)s)))
        from language in Gen.Frequency(
            (3, Gen.Constant<string?>(null)),
            (3, Gen.Elements<string?>("ja", "en", "en-US,en;q=0.9", "fr, en;q=0.5, ja;q=0.6", "*", "en;q=abc", "en-GB;q=0.8,ja", "ja;q=0, en;q=0")),
            (1, HeaderSafe().Select(s => (string?)s)))
        from extra in Gen.ListOf(Gen.Frequency(
            (2, from value in HeaderSafe() select new KeyValuePair<string, string>("X-Fuzz", value)),
            (1, Gen.Elements(
                new KeyValuePair<string, string>("Cookie", "a=b; " + Junk.Marker + "=1"),
                new KeyValuePair<string, string>("Referer", "https://" + Junk.Marker + ".example/"),
                new KeyValuePair<string, string>("X-Forwarded-For", "127.0.0.1, " + Junk.Marker),
                new KeyValuePair<string, string>("Origin", "null"),
                new KeyValuePair<string, string>("Authorization", "Bearer " + Junk.Marker),
                new KeyValuePair<string, string>("Expect", "100-continue"))))).Resize(2)
        select new List<KeyValuePair<string, string>>(
            (accept is null ? [] : new[] { new KeyValuePair<string, string>("Accept", accept) })
            .Concat(language is null ? [] : [new KeyValuePair<string, string>("Accept-Language", language)])
            .Concat(extra));

    /// <summary>Text a client can put in a header (HttpClient sends ASCII only, without line breaks or NULs).</summary>
    public static Gen<string> HeaderSafe() => Junk.Text().Select(t => Ascii(t.Length > 2000 ? t[..2000] : t).Trim());

    /// <summary>The text with what HttpClient refuses to send in a header replaced by '?'; other control characters stay.</summary>
    public static string Ascii(string text) => new(text.Select(c => c is '\r' or '\n' or '\0' || c > '\u007e' ? '?' : c).ToArray());

    /// <summary>Form, JSON, multipart, junk and oversized bodies, with right and wrong content types.</summary>
    public static Gen<(byte[]? Body, string? ContentType, bool Chunked)> FormBodies() =>
        from kind in Gen.Frequency(
            (6, Gen.Constant("one-click")), (3, Gen.Constant("form-junk")), (2, Gen.Constant("multipart")), (2, Gen.Constant("json")),
            (2, Gen.Constant("bytes")), (1, Gen.Constant("none")), (1, Gen.Constant("large")))
        from formValue in Gen.Frequency(
            (5, Gen.Elements("List-Unsubscribe=One-Click", "List-Unsubscribe=One-Click&source=page", "list-unsubscribe=one-click", "List-Unsubscribe=One-Click&List-Unsubscribe=One-Click",
                "List-Unsubscribe=", "List-Unsubscribe", "=One-Click", "List-Unsubscribe=One-Click&source=" + Junk.Marker, "List-Unsubscribe=One%2DClick", "List%2DUnsubscribe=One-Click",
                "List-Unsubscribe=One-Click;x=y", "&&&", "%", "a=%zz", "List-Unsubscribe=One-Click&" + string.Join("&", Enumerable.Range(0, 20).Select(i => $"k{i}=v")))),
            (2, from name in Junk.Ascii() from value in Junk.Text() select Uri.EscapeDataString(name) + "=" + Uri.EscapeDataString(value.Length > 3000 ? value[..3000] : value)))
        from bytes in Junk.RandomBytes()
        from json in Junk.JsonText()
        from contentType in Gen.Frequency(
            (8, Gen.Constant<string?>(null)),
            (2, Gen.Elements<string?>("text/plain", "application/json", "application/x-www-form-urlencoded; charset=utf-16", "application/x-www-form-urlencoded; charset=nope",
                "application/x-www-form-urlencoded;;", "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=" + new string('b', 80),
                "APPLICATION/X-WWW-FORM-URLENCODED", "application/octet-stream", "x/y", "", "*/*")))
        from chunked in Gen.Frequency((9, Gen.Constant(false)), (1, Gen.Constant(true)))
        from size in Gen.Elements(8 * 1024 + 1, 64 * 1024, 1024 * 1024 + 10)
        select kind switch
        {
            "one-click" => ((byte[]?)Encoding.UTF8.GetBytes(formValue), contentType ?? "application/x-www-form-urlencoded", chunked),
            "form-junk" => (Encoding.UTF8.GetBytes(formValue + "&" + Uri.EscapeDataString(Encoding.UTF8.GetString(bytes))), contentType ?? "application/x-www-form-urlencoded", chunked),
            "multipart" => (Multipart(formValue, bytes), contentType ?? "multipart/form-data; boundary=fuzzboundary", chunked),
            "json" => (Encoding.UTF8.GetBytes(json), contentType ?? "application/json", chunked),
            "bytes" => (bytes, contentType, chunked),
            "large" => (Large("List-Unsubscribe=One-Click&pad=", 'p', size), contentType ?? "application/x-www-form-urlencoded", chunked),
            _ => (null, contentType, false),
        };

    /// <summary>A Zoom-shaped webhook body (event, event_ts, payload.object ...), as Zoom sends each event this endpoint knows.</summary>
    public static Gen<JsonObject> ZoomWebhookBody() =>
        from kind in Gen.Elements("recording.completed", "recording.completed", "meeting.ended", "endpoint.url_validation", "meeting.started")
        from meetingId in Gen.Choose(1, int.MaxValue)
        from eventTs in Gen.Choose(0, 1_000_000)
        from token in Gen.ArrayOf(Gen.Elements("0123456789abcdef".ToCharArray()), 32)
        select kind == "endpoint.url_validation"
            ? new JsonObject
            {
                ["event"] = kind,
                ["event_ts"] = 1_790_000_000_000L + eventTs,
                ["payload"] = new JsonObject { ["plainToken"] = new string(token) },
            }
            : new JsonObject
            {
                ["event"] = kind,
                ["event_ts"] = 1_790_000_000_000L + eventTs,
                ["download_token"] = kind == "recording.completed" ? "dl-" + new string(token) : null,
                ["payload"] = new JsonObject
                {
                    ["account_id"] = "acc-fuzz",
                    ["object"] = new JsonObject
                    {
                        ["id"] = 80_000_000_000L + meetingId,
                        ["uuid"] = $"uuid-{meetingId}==",
                        ["host_id"] = "host-1",
                        ["host_email"] = "host.person@example.com",
                        ["topic"] = "Cafetalk lesson",
                        ["end_time"] = "2026-11-01T10:50:00Z",
                        ["recording_files"] = new JsonArray(new JsonObject
                        {
                            ["id"] = "file-1",
                            ["file_type"] = "MP4",
                            ["file_extension"] = "MP4",
                            ["file_size"] = 4096,
                            ["recording_type"] = "shared_screen_with_speaker_view",
                            ["download_url"] = $"https://zoom.example/rec/download/{meetingId}",
                        }),
                    },
                },
            };

    /// <summary>
    /// A large body, made once per shape and shared by every request that sends it: 10,000 generated requests hold their
    /// bodies in memory, and a few hundred megabyte-sized copies of the same bytes would be most of the test's memory.
    /// </summary>
    public static byte[] Large(string prefix, char fill, int size) =>
        LargeBodies.GetOrAdd((prefix, fill, size), key => Encoding.UTF8.GetBytes(key.Prefix + new string(key.Fill, key.Size)));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Prefix, char Fill, int Size), byte[]> LargeBodies = new();

    /// <summary>A method other than <paramref name="right"/>, now and then.</summary>
    public static Gen<string> Method(string right) => Gen.Frequency((19, Gen.Constant(right)), (1, Gen.Elements(OtherMethods.Where(m => m != right).ToArray())));

    private static byte[] Multipart(string formValue, byte[] junk)
    {
        var text = new StringBuilder();
        foreach (var pair in formValue.Split('&'))
        {
            var (name, value) = pair.Contains('=', StringComparison.Ordinal) ? (pair[..pair.IndexOf('=', StringComparison.Ordinal)], pair[(pair.IndexOf('=', StringComparison.Ordinal) + 1)..]) : (pair, string.Empty);
            text.Append(CultureInfo.InvariantCulture, $"--fuzzboundary\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n");
        }

        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        // Half the time the closing boundary is missing or the part is cut with raw bytes.
        return junk.Length % 2 == 0 ? [.. bytes, .. "--fuzzboundary--\r\n"u8.ToArray()] : [.. bytes, .. junk];
    }

    private static string LowerHex(string escaped) =>
        System.Text.RegularExpressions.Regex.Replace(escaped, "%[0-9A-F]{2}", m => m.Value.ToLowerInvariant());

    /// <summary>The value with only its printable ASCII left unescaped, reserved characters included.</summary>
    private static string AsciiOnly(string value) =>
        string.Concat(value.Select(c => c is > ' ' and < '\u007f' and not '#' ? c.ToString() : Uri.EscapeDataString(c.ToString())));
}
