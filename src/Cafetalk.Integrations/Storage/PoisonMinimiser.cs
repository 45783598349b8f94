using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Cafetalk.Integrations.Storage;

/// <summary>What is kept of a refused message: the contract's fields only, or nothing but its digest.</summary>
public sealed record MinimisedMessage(string? Message, string Sha256, int Bytes, int DroppedFields);

/// <summary>
/// Cuts a refused message down to the fields its queue's contract defines (booking event contract:
/// <see cref="Bookings.BookingEventParser"/>; converge and suppression requests: ids only) before it is stored. A value
/// that does not look like its field (an email where an id belongs, a name where a time zone belongs) is dropped too.
/// What is not JSON, or comes from a queue whose messages can carry secrets (zoom-events), keeps only its digest and length.
/// </summary>
public static partial class PoisonMinimiser
{
    private enum Kind
    {
        Id,
        Integer,
        Boolean,
        Timestamp,
        TimeZone,
        Locale,
        Email,
        Source,
        EventType,
        MediaType,
    }

    private static readonly Dictionary<string, Kind> CloudEventFields = new(StringComparer.Ordinal)
    {
        ["specversion"] = Kind.Locale, // "1.0": the same short, safe shape
        ["id"] = Kind.Id,
        ["source"] = Kind.Source,
        ["type"] = Kind.EventType,
        ["time"] = Kind.Timestamp,
        ["datacontenttype"] = Kind.MediaType,
        ["data.bookingId"] = Kind.Id,
        ["data.version"] = Kind.Integer,
        ["data.lecturerId"] = Kind.Id,
        ["data.studentId"] = Kind.Id,
        ["data.startsAt"] = Kind.Timestamp,
        ["data.durationMinutes"] = Kind.Integer,
        ["data.lecturerTimeZone"] = Kind.TimeZone,
        ["data.recordingConsent.lecturer"] = Kind.Boolean,
        ["data.recordingConsent.student"] = Kind.Boolean,
        ["data.memberId"] = Kind.Id,
        ["data.requestId"] = Kind.Id,
        ["data.requestedAt"] = Kind.Timestamp,
        ["data.list"] = Kind.Id,
        // The newsletter contract's own field: kept so a fixed subscription can be replayed; erasure removes it.
        ["data.email"] = Kind.Email,
        ["data.locale"] = Kind.Locale,
        ["data.consentRecordId"] = Kind.Id,
        ["data.consentedAt"] = Kind.Timestamp,
    };

    private static readonly Dictionary<string, Kind> ConvergeFields = new(StringComparer.Ordinal) { ["lecturerId"] = Kind.Id, ["bookingId"] = Kind.Id };

    private static readonly Dictionary<string, Kind> SuppressionFields = new(StringComparer.Ordinal) { ["subjectRef"] = Kind.Id, ["list"] = Kind.Id };

    /// <summary>The contract of each queue whose refused messages can be kept in part; any other queue keeps only a digest.</summary>
    private static readonly Dictionary<string, Dictionary<string, Kind>> Contracts = new(StringComparer.Ordinal)
    {
        [QueueNames.BookingEvents] = CloudEventFields,
        [QueueNames.NewsletterEvents] = CloudEventFields,
        [QueueNames.ErasureRequests] = CloudEventFields,
        [QueueNames.ZoomConverge] = ConvergeFields,
        [QueueNames.CalendarConverge] = ConvergeFields,
        [QueueNames.RecordingConverge] = ConvergeFields,
        [QueueNames.MailSuppressions] = SuppressionFields,
    };

    public static MinimisedMessage Minimise(string sourceQueue, string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        var digest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        if (!Contracts.TryGetValue(sourceQueue, out var contract) || !TryParseObject(bytes, out var root))
        {
            return new MinimisedMessage(null, digest, bytes.Length, 0);
        }

        var kept = new JsonObject();
        var dropped = 0;
        try
        {
            foreach (var (path, value) in Leaves(root, string.Empty))
            {
                if (contract.TryGetValue(path, out var kind) && Fits(kind, value))
                {
                    Place(kept, path, value.DeepClone());
                }
                else
                {
                    dropped++;
                }
            }
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            // A name twice, or a name no encoder accepts ("\ud800"), shows only when the object is read: keep the digest.
            return new MinimisedMessage(null, digest, bytes.Length, 0);
        }

        return new MinimisedMessage(kept.Count == 0 ? null : kept.ToJsonString(), digest, bytes.Length, dropped);
    }

    private static bool TryParseObject(byte[] bytes, out JsonObject root)
    {
        try
        {
            if (JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { MaxDepth = 32 }) is JsonObject obj)
            {
                root = obj;
                return true;
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            // Not JSON (or a name no encoder accepts): only the digest is kept.
        }

        root = [];
        return false;
    }

    /// <summary>Every primitive value with its dotted path; arrays are never part of a contract, so they count as one dropped field.</summary>
    private static IEnumerable<(string Path, JsonNode Value)> Leaves(JsonObject node, string prefix)
    {
        foreach (var (name, value) in node)
        {
            var path = prefix + name;
            if (value is JsonObject child)
            {
                foreach (var leaf in Leaves(child, path + "."))
                {
                    yield return leaf;
                }
            }
            else if (value is not null)
            {
                yield return (path, value);
            }
        }
    }

    private static void Place(JsonObject root, string path, JsonNode value)
    {
        var parts = path.Split('.');
        var parent = root;
        foreach (var part in parts[..^1])
        {
            if (parent[part] is not JsonObject next)
            {
                next = [];
                parent[part] = next;
            }

            parent = next;
        }

        parent[parts[^1]] = value;
    }

    private static bool Fits(Kind kind, JsonNode value)
    {
        if (value is not JsonValue primitive)
        {
            return false;
        }

        var element = primitive.GetValue<JsonElement>();
        return kind switch
        {
            Kind.Integer => element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out _),
            Kind.Boolean => element.ValueKind is JsonValueKind.True or JsonValueKind.False,
            _ => element.ValueKind == JsonValueKind.String && TextFits(kind, element),
        };
    }

    private static bool TextFits(Kind kind, JsonElement element)
    {
        string text;
        try
        {
            text = element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            return false;
        }

        return kind switch
        {
            Kind.Id => TableKeys.IsValidId(text),
            Kind.Timestamp => TimestampShape().IsMatch(text),
            Kind.TimeZone => TimeZoneShape().IsMatch(text),
            Kind.Locale => text.Length <= 8 && LocaleShape().IsMatch(text),
            Kind.Email => text.Length <= 254 && text.Contains('@', StringComparison.Ordinal) && !text.Any(char.IsWhiteSpace),
            Kind.Source => SourceShape().IsMatch(text),
            Kind.EventType => EventTypeShape().IsMatch(text),
            Kind.MediaType => MediaTypeShape().IsMatch(text),
            _ => false,
        };
    }

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{5,18}(Z|z|[+-][0-9]{2}:[0-9]{2})?$", RegexOptions.CultureInvariant)]
    private static partial Regex TimestampShape();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_+/-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex TimeZoneShape();

    [GeneratedRegex("^[A-Za-z0-9.]{1,8}$", RegexOptions.CultureInvariant)]
    private static partial Regex LocaleShape();

    [GeneratedRegex("^/[A-Za-z0-9/_.-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex SourceShape();

    [GeneratedRegex("^[a-z][a-z0-9.-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex EventTypeShape();

    [GeneratedRegex("^[a-z]+/[a-z0-9.+-]{1,60}$", RegexOptions.CultureInvariant)]
    private static partial Regex MediaTypeShape();
}
