using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cafetalk.Integrations.Bookings;

/// <summary>
/// A notification a booking row owes the site, as its outbox column (<see cref="SiteOutbox.ColumnOf"/>) holds it: the
/// type's data without the row's keys and without any secret field (the join link), which are read from the row when
/// it is sent. So the column can be read by anyone who can read the table and never holds a personal value.
/// </summary>
public sealed class SiteOutboxMarker
{
    private static readonly string[] RowKeyFields = ["bookingId", "lecturerId"];

    private SiteOutboxMarker(SiteNotificationType type, IReadOnlyDictionary<string, object?> data)
    {
        Type = type;
        Data = data;
    }

    public SiteNotificationType Type { get; }

    /// <summary>The data kept in the column: no row key, no secret.</summary>
    public IReadOnlyDictionary<string, object?> Data { get; }

    public string Column => SiteOutbox.ColumnOf(Type);

    /// <summary>A marker of <paramref name="type"/>; refuses (naming the field, never its value) a field that must not be kept in a column.</summary>
    public static SiteOutboxMarker For(SiteNotificationType type, IReadOnlyDictionary<string, object?> data)
    {
        if (!SiteOutbox.Types.Contains(type))
        {
            throw new ArgumentException($"{type.Type} is not a booking-row fact: it is sent directly, not through the outbox.", nameof(type));
        }

        foreach (var name in data.Keys)
        {
            if (type.Fields.FirstOrDefault(f => f.Name == name) is not { Secret: false } || RowKeyFields.Contains(name))
            {
                throw new ArgumentException($"data.{name} cannot be kept in an outbox column (a secret, a row key or not in {type.Type}'s schema).", nameof(data));
            }
        }

        return new SiteOutboxMarker(type, data);
    }

    /// <summary>The meeting exists or changed; its join link is read from the row's <see cref="MeetingColumns.JoinUrl"/> when sent.</summary>
    public static SiteOutboxMarker MeetingReady(long bookingVersion, DateTimeOffset startsAtUtc, string correlationId) => For(SiteNotificationTypes.MeetingReady, new Dictionary<string, object?>
    {
        [SiteNotificationTypes.BookingVersionField] = bookingVersion,
        ["startsAt"] = startsAtUtc.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        [SiteNotificationTypes.CorrelationField] = correlationId,
    });

    public static SiteOutboxMarker MeetingRemoved(long bookingVersion, string reason, string correlationId) =>
        For(SiteNotificationTypes.MeetingRemoved, Reasoned(bookingVersion, reason, correlationId));

    public static SiteOutboxMarker RecordingAvailable(long bookingVersion, string videoId, IReadOnlyList<string> embedDomains, string correlationId) => For(SiteNotificationTypes.RecordingAvailable, new Dictionary<string, object?>
    {
        [SiteNotificationTypes.BookingVersionField] = bookingVersion,
        ["vimeoVideoId"] = videoId,
        ["embedDomains"] = embedDomains.ToArray(),
        [SiteNotificationTypes.CorrelationField] = correlationId,
    });

    public static SiteOutboxMarker RecordingRemoved(long bookingVersion, string reason, string correlationId) =>
        For(SiteNotificationTypes.RecordingRemoved, Reasoned(bookingVersion, reason, correlationId));

    public static SiteOutboxMarker RecordingUploadFailed(long bookingVersion, int attempts, bool zoomCopyKept, string correlationId) => For(SiteNotificationTypes.RecordingUploadFailed, new Dictionary<string, object?>
    {
        [SiteNotificationTypes.BookingVersionField] = bookingVersion,
        ["attempts"] = attempts,
        ["zoomCopyKept"] = zoomCopyKept,
        [SiteNotificationTypes.CorrelationField] = correlationId,
    });

    /// <summary>The column's value: the data as JSON, fields in the schema's order, so one marker is always the same text.</summary>
    public string Encode()
    {
        var json = new JsonObject();
        foreach (var field in Type.Fields.Where(f => Data.ContainsKey(f.Name) && Data[f.Name] is not null))
        {
            json[field.Name] = JsonSerializer.SerializeToNode(Data[field.Name]);
        }

        return json.ToJsonString();
    }

    /// <summary>The marker an outbox column holds, or null when it holds none (empty: sent and cleared, or never marked).</summary>
    public static SiteOutboxMarker? Decode(SiteNotificationType type, string? column)
    {
        if (string.IsNullOrEmpty(column))
        {
            return null;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(column);
        }
        catch (JsonException)
        {
            throw new FormatException($"Outbox column {SiteOutbox.ColumnOf(type)} does not hold a marker.");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"Outbox column {SiteOutbox.ColumnOf(type)} does not hold a marker.");
            }

            var data = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                data[property.Name] = property.Value.ValueKind switch
                {
                    JsonValueKind.Number => property.Value.GetInt64(),
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    JsonValueKind.Array => property.Value.EnumerateArray().Select(e => e.GetString()!).ToArray(),
                    _ => property.Value.GetString(),
                };
            }

            return For(type, data);
        }
    }

    private static Dictionary<string, object?> Reasoned(long bookingVersion, string reason, string correlationId) => new()
    {
        [SiteNotificationTypes.BookingVersionField] = bookingVersion,
        ["reason"] = reason,
        [SiteNotificationTypes.CorrelationField] = correlationId,
    };
}
