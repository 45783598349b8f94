using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Bookings;

/// <summary>
/// One notification for the booking system: a type of <see cref="SiteNotificationTypes"/> and its data. Its CloudEvents
/// <c>id</c> is a digest of the type, subject and data (the correlation id aside), so the same fact told twice — a
/// redelivered message, a repeated converge — has the same id and the site keeps one.
/// </summary>
public sealed record SiteNotification(SiteNotificationType Type, IReadOnlyDictionary<string, object?> Data)
{
    /// <summary>What the event is about, as its CloudEvents <c>subject</c>: the booking, else the lecturer, else the receipt.</summary>
    public string Subject => (Data.GetValueOrDefault("bookingId") ?? Data.GetValueOrDefault("lecturerId") ?? Data.GetValueOrDefault("receiptId"))?.ToString() ?? string.Empty;

    public string Id
    {
        get
        {
            var identity = new JsonObject { ["type"] = Type.Type, ["subject"] = Subject, ["data"] = DataJson(forIdentity: true) };
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity.ToJsonString())))[..32];
        }
    }

    /// <summary>The structured-mode CloudEvents 1.0 message, as it is put on <c>site-notifications</c>.</summary>
    public string ToCloudEvent(DateTimeOffset time) => new JsonObject
    {
        ["specversion"] = "1.0",
        ["id"] = Id,
        ["source"] = Type.Source,
        ["type"] = Type.Type,
        ["subject"] = Subject,
        ["time"] = time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        ["datacontenttype"] = "application/json",
        ["data"] = DataJson(forIdentity: false),
    }.ToJsonString();

    // Fields in the schema's order, so the same data is always the same bytes (and the same id); the identity leaves
    // out what differs between two tellings of one fact (the correlation id, minutes left).
    private JsonObject DataJson(bool forIdentity)
    {
        var data = new JsonObject();
        foreach (var field in Type.Fields)
        {
            var leftOut = forIdentity && (field.Volatile || field.Name == SiteNotificationTypes.CorrelationField);
            if (!leftOut && Data.TryGetValue(field.Name, out var value) && value is not null)
            {
                data[field.Name] = JsonSerializer.SerializeToNode(value);
            }
        }

        foreach (var extra in Data.Keys.Where(k => Type.Fields.All(f => f.Name != k)).Order(StringComparer.Ordinal))
        {
            data[extra] = JsonSerializer.SerializeToNode(Data[extra]); // kept so the schema check sees and refuses it
        }

        return data;
    }
}

/// <summary>Checks a notification's data against its type's schema; each problem names the field, never its value.</summary>
public static class SiteNotificationSchema
{
    public static IReadOnlyList<string> Problems(SiteNotificationType type, JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Object)
        {
            return ["data is not an object"];
        }

        var problems = new List<string>();
        foreach (var field in type.Fields)
        {
            if (!data.TryGetProperty(field.Name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                if (field.Required)
                {
                    problems.Add($"data.{field.Name} is missing");
                }
            }
            else if (!Fits(field, value))
            {
                problems.Add($"data.{field.Name} is not {Describe(field)}");
            }
        }

        problems.AddRange(data.EnumerateObject().Where(p => type.Fields.All(f => f.Name != p.Name)).Select(p => $"data has a field the schema does not list ({p.Name.Length} characters)"));
        return problems;
    }

    private static bool Fits(SiteField field, JsonElement value) => field.Kind switch
    {
        SiteFieldKind.Id => value.ValueKind == JsonValueKind.String && TableKeys.IsValidId(value.GetString()),
        SiteFieldKind.WholeNumber => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        SiteFieldKind.Boolean => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        SiteFieldKind.Timestamp => value.ValueKind == JsonValueKind.String && value.GetString() is { } text && text.EndsWith('Z')
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _),
        SiteFieldKind.Url => value.ValueKind == JsonValueKind.String && Uri.TryCreate(value.GetString(), UriKind.Absolute, out var uri)
            && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)),
        SiteFieldKind.Choice => value.ValueKind == JsonValueKind.String && field.Choices!.Contains(value.GetString()!),
        SiteFieldKind.HostList => value.ValueKind == JsonValueKind.Array
            && value.EnumerateArray().All(h => h.ValueKind == JsonValueKind.String && Uri.CheckHostName(h.GetString()) == UriHostNameType.Dns),
        SiteFieldKind.ChoiceList => value.ValueKind == JsonValueKind.Array
            && value.EnumerateArray().All(c => c.ValueKind == JsonValueKind.String && field.Choices!.Contains(c.GetString()!)),
        _ => false,
    };

    private static string Describe(SiteField field) => field.Kind switch
    {
        SiteFieldKind.Choice => $"one of {string.Join(", ", field.Choices!)}",
        SiteFieldKind.ChoiceList => $"a list of {string.Join(", ", field.Choices!)}",
        SiteFieldKind.Id => "an id (1-64 characters of A-Z a-z 0-9 _ . -)",
        SiteFieldKind.WholeNumber => "a whole number",
        SiteFieldKind.Boolean => "true or false",
        SiteFieldKind.Timestamp => "a UTC time ending in Z",
        SiteFieldKind.Url => "an https URL",
        _ => "a list of host names",
    };

    /// <summary>The type's data as a JSON Schema (draft 2020-12), for the booking system's own checks.</summary>
    public static JsonObject JsonSchema(SiteNotificationType type)
    {
        var properties = new JsonObject();
        foreach (var field in type.Fields)
        {
            var property = KindSchema(field);
            property["description"] = field.Description;
            properties[field.Name] = property;
        }

        return new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$id"] = $"https://cafetalk.com/schemas/site-notifications/{type.Type}.json",
            ["title"] = type.Type,
            ["description"] = type.Description,
            ["type"] = "object",
            ["required"] = new JsonArray([.. type.Fields.Where(f => f.Required).Select(f => (JsonNode)f.Name)]),
            ["properties"] = properties,
            ["additionalProperties"] = false,
        };
    }

    private static JsonObject KindSchema(SiteField field) => field.Kind switch
    {
        SiteFieldKind.Id => new JsonObject { ["type"] = "string", ["pattern"] = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$" },
        SiteFieldKind.WholeNumber => new JsonObject { ["type"] = "integer" },
        SiteFieldKind.Boolean => new JsonObject { ["type"] = "boolean" },
        SiteFieldKind.Timestamp => new JsonObject { ["type"] = "string", ["format"] = "date-time", ["pattern"] = "Z$" },
        SiteFieldKind.Url => new JsonObject { ["type"] = "string", ["format"] = "uri" },
        SiteFieldKind.Choice => new JsonObject { ["enum"] = new JsonArray([.. field.Choices!.Select(c => (JsonNode)c)]) },
        SiteFieldKind.HostList => new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string", ["format"] = "hostname" } },
        _ => new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["enum"] = new JsonArray([.. field.Choices!.Select(c => (JsonNode)c)]) } },
    };
}

/// <summary>A producer built a notification its type's schema refuses: a bug, named by type and field, never by value.</summary>
public sealed class SiteNotificationContractException(string type, IReadOnlyList<string> problems)
    : InvalidOperationException($"Site notification {type} breaks its schema: {string.Join("; ", problems)}");

/// <summary>Puts notifications on <c>site-notifications</c>, each checked against its schema first; never logs their data (a join link is a secret).</summary>
public sealed class SiteNotifier(StorageAccount storage, TimeProvider time)
{
    public async Task PublishAsync(SiteNotificationType type, IReadOnlyDictionary<string, object?> data, CancellationToken cancellationToken = default)
    {
        var notification = new SiteNotification(type, data);
        var message = notification.ToCloudEvent(time.GetUtcNow());
        using (var parsed = JsonDocument.Parse(message))
        {
            if (SiteNotificationSchema.Problems(type, parsed.RootElement.GetProperty("data")) is { Count: > 0 } problems)
            {
                throw new SiteNotificationContractException(type.Type, problems);
            }
        }

        await storage.Queue(QueueNames.SiteNotifications).SendMessageAsync(message, cancellationToken);
    }
}
