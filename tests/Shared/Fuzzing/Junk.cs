using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;

namespace Cafetalk.Integrations.Fuzzing;

/// <summary>
/// Generators of bad input: random text and bytes, JSON-ish text, deep nesting, and JSON values of every kind.
/// Values often carry <see cref="Marker"/>, which must never come back in a rejection detail, a log line or a response.
/// </summary>
public static class Junk
{
    /// <summary>Stands for a personal value (a name, an email, a token) in generated input.</summary>
    public const string Marker = "Mkr!7q9Zx";

    /// <summary>The marker as it looks after URL, JSON or HTML escaping: none of these may be echoed either.</summary>
    public static readonly string[] MarkerForms = [Marker, "Mkr%217q9Zx", "Mkr\\u00217q9Zx", "Mkr&#33;7q9Zx"];

    /// <summary>True when <paramref name="text"/> holds the marker in any escaping.</summary>
    public static bool HasMarker(string? text) => text is not null && MarkerForms.Any(form => text.Contains(form, StringComparison.OrdinalIgnoreCase));

    /// <summary>Personal-looking values that carry the marker.</summary>
    public static readonly string[] MarkedValues =
    [
        Marker, $"{Marker}@example.jp", $"山田 {Marker}", $"+81-90-{Marker}", $"../{Marker}", $"<b>{Marker}</b>", $"{Marker}\r\nX-Injected: 1",
        $"{Marker}%00", $"' or ''='{Marker}", $"sub-{Marker}", $"lec_{Marker}/../x", $"https://{Marker}.example/", $"\"{Marker}\"",
    ];

    /// <summary>Strings that break naive code: separators, encodings, injections, look-alikes, boundaries.</summary>
    public static readonly string[] Nasty =
    [
        "", " ", "\t", "\0", "\r\n", "\u007f", "null", "true", "0", "-1", "1e309", "NaN", "..", ".", "../../etc/passwd", "a/b", "a\\b", "#", "?", "%",
        "%00", "%zz", "%2F", "%252F", "+", "&", "=", ";", "~", "~~~", "a~b~c~d", "<script>alert(1)</script>", "' or ''='", "PartitionKey eq 'x'", "${jndi:ldap://x}",
        "{{7*7}}", "\uFEFF", "\u200B", "\u202E", "ｌｅｃ１２", "İı", "ß", "😀", "\uD800", "\uDFFF", "\uFFFF", "\uFFFE", "\uFFFD", "Asia/Tokyo", "Tokyo Standard Time",
        "UTC", "Etc/GMT+5", "asia/tokyo", "Asia/Tokyo ", "America/Argentina/Buenos_Aires", "2027-02-30T10:00:00Z", "2027-03-02T10:00:00+09:00",
        "2027-03-02T10:00:00", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2027-03-02T24:00:00Z", "2027-03-02T10:00:60Z", "2027-03-02t10:00:00z",
        "2027-03-02T10:00:00.12345678Z", "2027-03-02T10:00:00-00:00", "+002027-03-02T10:00:00Z", "com.cafetalk.booking.confirmed",
        "COM.CAFETALK.BOOKING.CONFIRMED", "com.cafetalk.booking.confirmed ", "com.cafetalk.member.erasure-requested", "com.cafetalk.newsletter.subscribed",
        "1.0", "0.3", "1.00", "application/json", "text/plain", "application/xml", "hanako@example.jp", "a@b", "\"quoted\"@example.jp", "x@[127.0.0.1]",
        "Hanako <h@example.jp>", "h@example.jp\r\nBcc: x@y", "sub-00000000000000000000000000000000", "sub-0000000000000000000000000000000g", "cafetalk-news",
        "recording.completed", "meeting.ended", "endpoint.url_validation", "ja", "en", "JA", "jp", "ja-JP", "*", "/", "//", "\\\\server\\share",
        "v0=", "v0=00", "x=y&z", "a=b; c=d", "-", "_", "a.", ".a", "-a", "a-", new string('a', 64), new string('a', 65), new string('1', 20),
    ];

    public static Gen<string> Ascii() =>
        from length in Gen.Choose(0, 40)
        from chars in Gen.ArrayOf(Gen.Choose(32, 126).Select(c => (char)c), length)
        select new string(chars);

    /// <summary>Any UTF-16 text: controls, Latin-1, kana, kanji, emoji as surrogate pairs and, rarely, lone surrogates.</summary>
    public static Gen<string> Unicode() =>
        from length in Gen.Choose(0, 40)
        from parts in Gen.ArrayOf(Gen.Frequency(
            (8, Gen.Choose(32, 126).Select(c => ((char)c).ToString())),
            (2, Gen.Choose(0, 31).Select(c => ((char)c).ToString())),
            (2, Gen.Choose(0xA0, 0xFF).Select(c => ((char)c).ToString())),
            (3, Gen.Choose(0x3041, 0x30FF).Select(c => ((char)c).ToString())),
            (3, Gen.Choose(0x4E00, 0x9FFF).Select(c => ((char)c).ToString())),
            (2, Gen.Choose(0x1F300, 0x1FAFF).Select(char.ConvertFromUtf32)),
            (1, Gen.Choose(0xD800, 0xDFFF).Select(c => ((char)c).ToString())),
            (1, Gen.Elements("\u200B", "\u202E", "\uFEFF", "\uFFFD", "\u0301", "\u3000"))), length)
        select string.Concat(parts);

    /// <summary>A long string: just over the limits that matter (ids, queue messages, bodies, URLs).</summary>
    public static Gen<string> Oversized() =>
        from length in Gen.Elements(65, 255, 256, 401, 1025, 2049, 8 * 1024 + 1, 40 * 1024 + 1, 48 * 1024, 64 * 1024 + 1, 70_000)
        from unit in Gen.Elements("a", "あ", "😀", "\"", "\\", "<", "%", Marker)
        select string.Concat(Enumerable.Repeat(unit, length / unit.Length + 1))[..length];

    public static Gen<string> Text() => Gen.Frequency(
        (6, Ascii()),
        (5, Gen.Elements(Nasty)),
        (3, Unicode()),
        (3, Gen.Elements(MarkedValues)),
        (2, from nasty in Gen.Elements(Nasty) from marked in Gen.Elements(MarkedValues) select nasty + marked),
        (1, Oversized()));

    /// <summary>Random bytes read as UTF-8, the way a queue trigger turns bytes into a string (invalid sequences become U+FFFD).</summary>
    public static Gen<string> BytesAsText() => RandomBytes().Select(b => Encoding.UTF8.GetString(b));

    public static Gen<byte[]> RandomBytes() =>
        from length in Gen.Frequency((8, Gen.Choose(0, 64)), (2, Gen.Choose(65, 4096)))
        from bytes in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), length)
        select bytes;

    /// <summary>Fragments of JSON syntax in random order: mostly invalid, now and then valid.</summary>
    public static Gen<string> JsonTokens() =>
        from tokens in Gen.ListOf(Gen.Elements("{", "}", "[", "]", "\"", ":", ",", "1", "-", ".", "e", "true", "null", "\\", "\\u00", "\\ud800", "\"a\"", "\"id\"", " ", "\n", "/*", "*/", "//", "'", Marker))
        select string.Concat(tokens);

    /// <summary>Nesting past every depth limit (32 in intake, 64 in System.Text.Json's default).</summary>
    public static Gen<string> DeepNesting() =>
        from depth in Gen.Elements(31, 32, 33, 64, 65, 1000, 5000)
        from kind in Gen.Elements("array", "object", "data")
        select kind switch
        {
            "array" => new string('[', depth) + new string(']', depth),
            "object" => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth),
            _ => "{\"specversion\":\"1.0\",\"id\":\"x\",\"source\":\"/x\",\"type\":\"com.cafetalk.booking.confirmed\",\"data\":"
                + string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth) + "}",
        };

    /// <summary>Numbers as JSON text, including ones no .NET integer type holds.</summary>
    public static readonly string[] JsonNumbers =
    [
        "0", "-0", "1", "-1", "1.5", "1.0", "1e3", "1E+400", "-1e-400", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "0.0000001", "123456789012345678901234567890", "2147483648", "240", "241",
    ];

    /// <summary>A JSON value of any kind; objects use well-known field names, marker keys and random keys.</summary>
    public static Gen<JsonNode?> JsonValue(int depth = 3) => depth <= 0
        ? Scalar()
        : Gen.Frequency((5, Scalar()), (2, JsonArray(depth - 1)), (2, JsonObject(depth - 1)));

    public static Gen<JsonNode?> Scalar() => Gen.Frequency(
        (1, Gen.Constant<JsonNode?>(null)),
        (1, Gen.Elements(true, false).Select(b => (JsonNode?)b)),
        (2, Gen.Elements(JsonNumbers).Select(n => JsonNode.Parse(n))),
        (1, Gen.Choose(int.MinValue, int.MaxValue).Select(n => (JsonNode?)n)),
        (5, Text().Select(t => (JsonNode?)t)));

    private static Gen<JsonNode?> JsonArray(int depth) =>
        from items in Gen.ListOf(JsonValue(depth)).Resize(5)
        select (JsonNode?)new JsonArray([.. items]);

    private static Gen<JsonNode?> JsonObject(int depth) =>
        from keys in Gen.ListOf(Gen.Frequency((3, Gen.Elements(FieldNames)), (1, Text()))).Resize(6)
        from values in Gen.ArrayOf(JsonValue(depth), keys.Count)
        select (JsonNode?)Build(keys, values);

    private static JsonObject Build(List<string> keys, JsonNode?[] values)
    {
        var result = new JsonObject();
        for (var i = 0; i < keys.Count; i++)
        {
            result[keys[i]] = values[i];
        }

        return result;
    }

    /// <summary>Every field name any entry point reads, so random objects sometimes look almost right.</summary>
    public static readonly string[] FieldNames =
    [
        "specversion", "id", "source", "type", "data", "data_base64", "datacontenttype", "time", "subject", "dataschema",
        "bookingId", "version", "lecturerId", "studentId", "startsAt", "durationMinutes", "lecturerTimeZone", "recordingConsent", "lecturer", "student",
        "memberId", "requestId", "requestedAt", "list", "email", "locale", "consentRecordId", "consentedAt",
        "event", "eventTs", "meetingId", "meetingUuid", "downloadToken", "recordingFiles", "downloadUrl", "fileType", "recordingType", "eventKey",
        "subjectRef", "payload", "object", "plainToken", "event_ts", "download_token", "recording_files", "uuid", "host_id",
    ];

    /// <summary>JSON text of a random value; sometimes with a duplicated key, which System.Text.Json nodes cannot hold.</summary>
    public static Gen<string> JsonText() => Gen.Frequency(
        (5, JsonValue(4).Select(v => v?.ToJsonString() ?? "null")),
        (1, from value in JsonObject(2)
            from key in Gen.Elements(FieldNames)
            from other in Scalar()
            select DuplicateKey(value!.ToJsonString(), key, other)));

    /// <summary>Adds <paramref name="key"/> again at the start of an object's JSON text.</summary>
    public static string DuplicateKey(string objectJson, string key, JsonNode? value) =>
        objectJson.StartsWith('{')
            ? "{" + JsonSerializer.Serialize(key) + ":" + (value?.ToJsonString() ?? "null") + (objectJson.Length > 2 ? "," : string.Empty) + objectJson[1..]
            : objectJson;

    /// <summary>Any string an entry point may be handed: random, JSON-ish, nested too deep.</summary>
    public static Gen<string> AnyText() => Gen.Frequency(
        (3, Text()),
        (2, BytesAsText()),
        (3, JsonTokens()),
        (4, JsonText()),
        (1, DeepNesting()));
}
