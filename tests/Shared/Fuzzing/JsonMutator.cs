using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;

namespace Cafetalk.Integrations.Fuzzing;

/// <summary>What one structural mutation does to the field it picks.</summary>
public enum FieldMutation
{
    Remove,
    SetNull,
    SetEdgeValue,
    SetJunk,
    SetMarked,
    SetLong,
    RenameKey,
    AddUnknownKey,
    WrapInArray,
    Retype,
}

/// <summary>
/// One mutation step; <see cref="Pick"/> and <see cref="Edge"/> choose the field and its edge value. A targeted step picks
/// among the fields an entry point reads (mutating a field it ignores leaves the message valid, which must stay rare).
/// </summary>
public sealed record MutationStep(FieldMutation Kind, int Pick, int Edge, JsonNode? Junk, string Text, bool Targeted = true);

/// <summary>
/// Mutations of a valid message: a field removed, nulled, retyped, set to an edge value or to junk, oversized,
/// renamed; or the text itself truncated, cut, spliced, byte-flipped. Edge values are chosen per field name.
/// </summary>
public static class JsonMutator
{
    /// <summary>Values at and just past each field's rules, as JSON text.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> EdgeValues = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["specversion"] = ["\"1.0\"", "\"0.3\"", "\"1.00\"", "1.0", "1", "\"\"", "\" 1.0\"", "\"1.0\\u0000\"", "[\"1.0\"]"],
        ["id"] = ["\"\"", "\" \"", "\"x\"", "1", "{}", Q(new string('i', 4096)), Q(Junk.Marker), "\"../x\"", "\"a\\u0000b\""],
        ["source"] = ["\"\"", "\"::::\"", "\"http://[::1\"", "\"%zz\"", "\"/ok\"", "\"urn:x\"", "1", Q("https://" + Junk.Marker + ".example/"), "\" \""],
        ["type"] = ["\"\"", "\"com.cafetalk.booking.confirmed\"", "\"com.cafetalk.booking.cancelled\"", "\"com.cafetalk.member.erasure-requested\"",
            "\"com.cafetalk.newsletter.subscribed\"", "\"com.cafetalk.booking\"", "\"COM.CAFETALK.BOOKING.CONFIRMED\"", Q("com.cafetalk." + Junk.Marker), "true"],
        ["datacontenttype"] = ["\"text/plain\"", "\"application/xml\"", "\"application/json; charset=utf-16\"", "\"\"", "\";;;\"", "1", "\"application/cloudevents+json\""],
        ["time"] = ["\"not a time\"", "\"2027-02-30T00:00:00Z\"", "\"\"", "1", "\"9999-12-31T23:59:59Z\"", "\"2027-03-02T10:00:00\""],
        ["dataschema"] = ["\"::::\"", "\"\"", "\"/schema\"", "1"],
        ["subject"] = ["\"\"", "1", Q(Junk.Marker)],
        ["data"] = ["null", "\"string\"", "[]", "[{}]", "1", "{}", "true", Q(Junk.Marker)],
        ["data_base64"] = ["\"eyJhIjoxfQ==\"", "\"!!!\"", "\"\"", "1"],
        ["bookingId"] = IdEdges(),
        ["lecturerId"] = IdEdges(),
        ["studentId"] = IdEdges(),
        ["memberId"] = IdEdges(),
        ["requestId"] = IdEdges(),
        ["list"] = IdEdges(),
        ["consentRecordId"] = IdEdges(),
        ["version"] = ["0", "-1", "1", "2", "1.5", "1.0", "\"1\"", "9223372036854775807", "9223372036854775808", "1e3", "true", "null", "[1]"],
        ["startsAt"] = DateEdges(),
        ["requestedAt"] = DateEdges(),
        ["consentedAt"] = DateEdges(),
        ["durationMinutes"] = ["0", "1", "240", "241", "-5", "50.0", "50.5", "\"50\"", "1e2", "2147483648", "9223372036854775808", "null"],
        ["lecturerTimeZone"] = ["\"Tokyo Standard Time\"", "\"UTC\"", "\"Etc/GMT+5\"", "\"asia/tokyo\"", "\"Asia/Tokyo \"", "\"Asia/Tokyo\"", "\"Local\"",
            "\"../../etc/passwd\"", "\"Asia\"", "\"\"", "1", "\"America/Argentina/Buenos_Aires\"", "\"Etc/UTC\"", Q(Junk.Marker), Q(new string('z', 65))],
        ["recordingConsent"] = ["{}", "{\"lecturer\":true}", "{\"lecturer\":\"true\",\"student\":1}", "[]", "true", "null", "{\"lecturer\":null,\"student\":false}"],
        ["lecturer"] = ["\"true\"", "1", "0", "null", "\"yes\"", "[]"],
        ["student"] = ["\"false\"", "1", "0", "null", "\"no\"", "{}"],
        ["email"] = ["\"a@b\"", "\"hanako@example.jp\"", "\"\\\"q\\\"@example.jp\"", "\"x@[127.0.0.1]\"", "\"Hanako <h@example.jp>\"", "\"h@example.jp\\r\\nBcc: x@y\"",
            "\"@example.jp\"", "\"h@\"", "\"h@@example.jp\"", "\" h@example.jp\"", Q(new string('a', 250) + "@example.jp"), Q(Junk.Marker + "@example.jp"), "1"],
        ["locale"] = ["\"ja\"", "\"en\"", "\"fr\"", "\"JA\"", "\"jp\"", "\"ja-JP\"", "\"\"", "null", "1", Q(Junk.Marker)],
        ["event"] = ["\"\"", "\"recording.completed\"", "\"meeting.ended\"", "\"endpoint.url_validation\"", "\"RECORDING.COMPLETED\"", "\"recording.completed \"",
            "\"meeting.started\"", "1", "null", Q(Junk.Marker)],
        ["eventTs"] = TimestampEdges(),
        ["event_ts"] = TimestampEdges(),
        ["meetingId"] = ["\"123\"", "1.5", "-1", "0", "9223372036854775807", "9223372036854775808", "null", "true", "[]", "1e3"],
        ["meetingUuid"] = ["\"\"", "\"/\"", "\"//x\"", "\"a/../b\"", "1", Q(Junk.Marker), Q(new string('u', 2000))],
        ["downloadToken"] = ["\"\"", "1", "null", Q(Junk.Marker), "{}"],
        ["recordingFiles"] = ["{}", "[1]", "[null]", "[{\"id\":1}]", "[{\"downloadUrl\":123}]", "\"files\"", "null", "[[]]"],
        ["downloadUrl"] = ["\"\"", "\"javascript:alert(1)\"", "\"file:///etc/passwd\"", "\"http://169.254.169.254/\"", "1", Q("https://" + Junk.Marker + ".example/")],
        ["fileType"] = ["\"MP4\"", "\"mp4\"", "\"M4A\"", "\"\"", "1"],
        ["recordingType"] = ["\"shared_screen_with_speaker_view\"", "\"\"", "1"],
        ["eventKey"] = ["\"\"", "1", Q(Junk.Marker)],
        ["subjectRef"] = ["\"sub-00000000000000000000000000000000\"", "\"sub-0000000000000000000000000000000g\"", "\"sub-\"", "\"sub-0/0\"", "\"\"", "1",
            Q("sub-" + Junk.Marker), "\"a'b\"", Q(new string('s', 1025)), "\"sub-#\"", "\"sub-\\u0001\""],
    };

    public static Gen<MutationStep> Step() =>
        from kind in Gen.Frequency(
            (3, Gen.Constant(FieldMutation.Remove)),
            (2, Gen.Constant(FieldMutation.SetNull)),
            (8, Gen.Constant(FieldMutation.SetEdgeValue)),
            (4, Gen.Constant(FieldMutation.SetJunk)),
            (2, Gen.Constant(FieldMutation.SetMarked)),
            (1, Gen.Constant(FieldMutation.SetLong)),
            (2, Gen.Constant(FieldMutation.RenameKey)),
            (2, Gen.Constant(FieldMutation.AddUnknownKey)),
            (1, Gen.Constant(FieldMutation.WrapInArray)),
            (2, Gen.Constant(FieldMutation.Retype)))
        from pick in Gen.Choose(0, int.MaxValue)
        from edge in Gen.Choose(0, int.MaxValue)
        from junk in Junk.JsonValue(2)
        from text in Junk.Text()
        from targeted in Gen.Frequency((6, Gen.Constant(true)), (1, Gen.Constant(false)))
        select new MutationStep(kind, pick, edge, junk, text, targeted);

    /// <summary>1-3 structural mutations of a valid message.</summary>
    public static Gen<string> Structural(Gen<JsonObject> valid) =>
        from message in valid
        from count in Gen.Frequency((3, Gen.Constant(1)), (4, Gen.Constant(2)), (3, Gen.Constant(3)))
        from steps in Gen.ArrayOf(Step(), count)
        select Apply(message, steps);

    /// <summary>The valid message's text cut, spliced or flipped.</summary>
    public static Gen<string> TextLevel(Gen<JsonObject> valid) =>
        from message in valid
        from kind in Gen.Choose(0, 11)
        from a in Gen.Choose(0, int.MaxValue)
        from b in Gen.Choose(0, int.MaxValue)
        from insert in Junk.AnyText().Resize(10)
        from key in Gen.Elements(Junk.FieldNames)
        from value in Junk.Scalar()
        select MutateText(message.ToJsonString(), kind, a, b, insert, key, value);

    /// <summary>The valid message padded with an unknown field to just under or over the size limits.</summary>
    public static Gen<string> Oversized(Gen<JsonObject> valid) =>
        from message in valid
        from target in Gen.Elements(40 * 1024 - 10, 40 * 1024 + 1, 48 * 1024, 64 * 1024, 64 * 1024 + 1, 256 * 1024 + 1)
        from unit in Gen.Elements("a", "あ", "\"", "<", Junk.Marker)
        select Pad(message, target, unit);

    /// <summary>Mutations of valid messages in the proportions every entry point is fuzzed with.</summary>
    public static Gen<string> Mutations(Gen<JsonObject> valid) => Gen.Frequency(
        (14, Structural(valid)),
        (5, TextLevel(valid)),
        (1, Oversized(valid)));

    public static string Apply(JsonObject message, IReadOnlyList<MutationStep> steps)
    {
        var root = message.DeepClone().AsObject();
        foreach (var step in steps)
        {
            var slots = Slots(root).ToList();
            if (slots.Count == 0)
            {
                // Every field is gone: the only thing left to do is to add one.
                root[step.Text.Length > 0 ? step.Text : Junk.Marker] = step.Junk?.DeepClone();
                continue;
            }

            var read = slots.Where(slot => slot.Key is not null && EdgeValues.ContainsKey(slot.Key)).ToList();
            var candidates = step.Targeted && read.Count > 0 ? read : slots;
            var (parent, key, index) = candidates[step.Pick % candidates.Count];
            var current = key is not null ? ((JsonObject)parent)[key] : ((JsonArray)parent)[index];
            JsonNode? replacement;
            switch (step.Kind)
            {
                case FieldMutation.Remove:
                    if (key is not null)
                    {
                        ((JsonObject)parent).Remove(key);
                    }
                    else
                    {
                        ((JsonArray)parent).RemoveAt(index);
                    }

                    continue;
                case FieldMutation.RenameKey when key is not null:
                    var obj = (JsonObject)parent;
                    obj.Remove(key);
                    var renamed = key.Length == 0 ? " " : (step.Edge % 4) switch { 0 => key.ToUpperInvariant(), 1 => char.ToUpperInvariant(key[0]) + key[1..], 2 => key + " ", _ => "\u200B" + key };
                    obj[renamed] = current;
                    continue;
                case FieldMutation.AddUnknownKey:
                    (parent is JsonObject o ? o : root)[step.Text.Length > 0 ? step.Text : Junk.Marker] = Junk.MarkedValues[step.Edge % Junk.MarkedValues.Length];
                    continue;
                case FieldMutation.SetNull:
                    replacement = null;
                    break;
                case FieldMutation.SetEdgeValue when key is not null && EdgeValues.TryGetValue(key, out var edges):
                    replacement = JsonNode.Parse(edges[step.Edge % edges.Length]);
                    break;
                case FieldMutation.SetMarked:
                    replacement = Junk.MarkedValues[step.Edge % Junk.MarkedValues.Length];
                    break;
                case FieldMutation.SetLong:
                    replacement = string.Concat(Enumerable.Repeat(Junk.Marker, 1 + step.Edge % 300));
                    break;
                case FieldMutation.WrapInArray:
                    replacement = new JsonArray(current?.DeepClone());
                    break;
                case FieldMutation.Retype:
                    replacement = Retype(current, step.Text);
                    break;
                default:
                    replacement = step.Junk?.DeepClone();
                    break;
            }

            if (key is not null)
            {
                ((JsonObject)parent)[key] = replacement;
            }
            else
            {
                ((JsonArray)parent)[index] = replacement;
            }
        }

        return root.ToJsonString();
    }

    public static string MutateText(string text, int kind, int a, int b, string insert, string key, JsonNode? value)
    {
        var at = text.Length == 0 ? 0 : a % text.Length;
        var length = text.Length - at == 0 ? 0 : 1 + b % Math.Min(64, text.Length - at);
        return kind switch
        {
            0 => text[..at],
            1 => text.Remove(at, length),
            2 => text.Insert(at, insert),
            3 => text.Length == 0 ? insert : text[..at] + (char)(b % 0x3000) + text[(at + 1)..],
            4 => text.Insert(at, text.Substring(at, length)),
            5 => FlipByte(text, a, b),
            6 => text.Replace('"', '\''),
            7 => "\uFEFF" + text,
            8 => "[" + text + "]",
            9 => Junk.DuplicateKey(text, key, value),
            // An escaped unpaired surrogate right after an opening quote: inside a name or a value, still valid JSON syntax.
            _ => AfterQuote(text, a, kind == 10 ? "\\ud800" : "\\udfff"),
        };
    }

    private static string AfterQuote(string text, int pick, string insert)
    {
        var quotes = Enumerable.Range(0, text.Length).Where(i => text[i] == '"').ToList();
        return quotes.Count == 0 ? text + insert : text.Insert(quotes[pick % quotes.Count] + 1, insert);
    }

    public static string Pad(JsonObject message, int targetBytes, string unit)
    {
        var padded = message.DeepClone().AsObject();
        padded["padding"] = string.Empty;
        var size = Encoding.UTF8.GetByteCount(padded.ToJsonString());
        var unitBytes = Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(unit)) - 2;
        var repeat = Math.Max(0, (targetBytes - size) / Math.Max(1, unitBytes));
        padded["padding"] = string.Concat(Enumerable.Repeat(unit, repeat));
        return padded.ToJsonString();
    }

    private static string FlipByte(string text, int a, int b)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length == 0)
        {
            return text;
        }

        bytes[a % bytes.Length] ^= (byte)(1 << (b % 8));
        return Encoding.UTF8.GetString(bytes);
    }

    private static JsonNode? Retype(JsonNode? current, string text) => current switch
    {
        null => text,
        JsonObject or JsonArray => current.ToJsonString(),
        JsonValue v when v.GetValueKind() == JsonValueKind.String =>
            double.TryParse(v.GetValue<string>(), NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && double.IsFinite(n) ? JsonValue.Create(n) : JsonValue.Create(0),
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValueKind() == JsonValueKind.True ? "true" : "false",
        _ => current.ToJsonString(),
    };

    /// <summary>Every place a value sits: object members and array items, the root's own members included.</summary>
    private static IEnumerable<(JsonNode Parent, string? Key, int Index)> Slots(JsonNode node)
    {
        if (node is JsonObject obj)
        {
            foreach (var (key, child) in obj.ToList())
            {
                yield return (obj, key, -1);
                if (child is not null)
                {
                    foreach (var slot in Slots(child))
                    {
                        yield return slot;
                    }
                }
            }
        }
        else if (node is JsonArray array)
        {
            for (var i = 0; i < array.Count; i++)
            {
                yield return (array, null, i);
                if (array[i] is { } child)
                {
                    foreach (var slot in Slots(child))
                    {
                        yield return slot;
                    }
                }
            }
        }
    }

    private static string Q(string value) => JsonSerializer.Serialize(value);

    private static string[] IdEdges() =>
    [
        "\"\"", "\" \"", "\"a\"", Q(new string('a', 64)), Q(new string('a', 65)), "\"-a\"", "\"_a\"", "\".a\"", "\"a/b\"", "\"a b\"", "\"a#b\"", "\"a?b\"", "\"a\\\\b\"",
        "\"ａ１\"", "\"a\\u0000\"", "\"a\\u007f\"", "\"İ\"", "12345", "true", "[\"a\"]", "{\"a\":1}", Q(Junk.Marker), Q("lec_" + Junk.Marker + "'"), "\"..\"",
    ];

    private static string[] DateEdges() =>
    [
        "\"2027-02-30T10:00:00Z\"", "\"2027-03-02T10:00:00+09:00\"", "\"2027-03-02T10:00:00+00:00\"", "\"2027-03-02T10:00:00\"", "\"9999-12-31T23:59:59Z\"",
        "\"0001-01-01T00:00:00Z\"", "\"2027-03-02T24:00:00Z\"", "\"2027-03-02T10:00:60Z\"", "\"2027-03-02t10:00:00z\"", "\"2027-03-02T10:00:00.12345678Z\"",
        "\"2027-03-02T10:00:00-00:00\"", "\"+002027-03-02T10:00:00Z\"", "\"2027-03-02\"", "\"10:00\"", "\"\"", "1700000000", "\"2099-01-01T00:00:00Z\"",
        "\"2027-03-02T10:00Z\"", "\"2027-03-02 10:00:00Z\"", "\"２０２７-03-02T10:00:00Z\"", "\"0001-01-01T00:00:00+14:00\"", "\"9999-12-31T23:59:59-14:00\"",
    ];

    private static string[] TimestampEdges() =>
        ["0", "-1", "1.5", "\"1700000000000\"", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "253402300800000", "null", "true", "1e3"];
}
