using System.Globalization;
using System.Net.Mail;
using System.Net.Mime;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cafetalk.Integrations.Storage;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;

namespace Cafetalk.Integrations.Bookings;

/// <summary>The outcome of reading one queue message: a booking event, a member event, or a rejection.</summary>
public sealed record ParseResult(BookingEvent? Booking, MemberEvent? Member, Rejection? Rejection, string? EventId)
{
    public static ParseResult Rejected(Rejection rejection, string? eventId = null) => new(null, null, rejection, eventId);

    /// <summary>
    /// The id to trace the message by in logs and the poison queue: its event id when that is an id like ours, else the
    /// queue message id. A CloudEvent id may be any text (an email, 60 KB), so such an id is never logged or filed under.
    /// </summary>
    public string CorrelationId(string? messageId) => TraceableEventId ?? messageId ?? Guid.NewGuid().ToString("N");

    /// <summary>The event id when it is an id like ours, so safe to log and file under; otherwise null.</summary>
    public string? TraceableEventId => TableKeys.IsValidId(EventId) ? EventId : null;

    /// <summary>This result as the intake's queue reads it: refused with its rejection, else read.</summary>
    public QueueMessageReading<ParseResult> AsReading() => Rejection is { } rejection
        ? QueueMessageReading.Refused<ParseResult>(rejection.Reason, rejection.Detail, TraceableEventId)
        : QueueMessageReading.Read(this, TraceableEventId);

    /// <summary>A minimised member event of <paramref name="type"/>, as its own queue reads it; anything else is refused.</summary>
    public QueueMessageReading<MemberEvent> AsMemberEvent(string type, string otherwise) => Member is { } member && member.Type == type
        ? QueueMessageReading.Read(member, TraceableEventId)
        : QueueMessageReading.Refused<MemberEvent>(Rejection?.Reason ?? RejectionReasons.UnknownType, Rejection?.Detail ?? otherwise, TraceableEventId);
}

/// <summary>
/// Reads a CloudEvents 1.0 structured JSON message and checks every field the pipeline relies on. Each
/// refusal carries one reason; details name the field, never the value, so they are safe to log.
/// </summary>
public sealed partial class BookingEventParser(TimeProvider time)
{
    public const int MaxMessageBytes = 64 * 1024;
    public const int MinDurationMinutes = 1;
    public const int MaxDurationMinutes = 240;
    public static readonly TimeSpan MaxLeadTime = TimeSpan.FromDays(731);

    private static readonly JsonEventFormatter Formatter = new();
    private static readonly ContentType StructuredContentType = new("application/cloudevents+json");

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(?<zone>Z|z|[+-]\d{2}:\d{2})?$", RegexOptions.CultureInvariant)]
    private static partial Regex Iso8601Pattern();

    public ParseResult Parse(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var byteCount = Encoding.UTF8.GetByteCount(message);
        if (byteCount > MaxMessageBytes)
        {
            return Reject(RejectionReasons.TooLarge, $"message is {byteCount} bytes; the limit is {MaxMessageBytes}");
        }

        var bytes = Encoding.UTF8.GetBytes(message);
        var envelopeProblem = CheckEnvelope(bytes);
        if (envelopeProblem is not null)
        {
            return ParseResult.Rejected(envelopeProblem);
        }

        CloudEvent cloudEvent;
        try
        {
            cloudEvent = Formatter.DecodeStructuredModeMessage(bytes, StructuredContentType, extensionAttributes: null);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or JsonException or FormatException)
        {
            // The SDK's message can quote attribute values, so it is not passed on.
            return Reject(RejectionReasons.NotCloudEvent, "CloudEvent context attributes are malformed");
        }

        var eventId = cloudEvent.Id!;
        var type = cloudEvent.Type!;
        if (!EventTypes.IsKnown(type))
        {
            // The type is not echoed: an unknown attribute value could be anything, personal data included.
            return ParseResult.Rejected(new Rejection(RejectionReasons.UnknownType, "type is not one of the com.cafetalk event types this pipeline handles"), eventId);
        }

        if (cloudEvent.Data is not JsonElement { ValueKind: JsonValueKind.Object } data)
        {
            return ParseResult.Rejected(new Rejection(RejectionReasons.MissingField, "data must be a JSON object"), eventId);
        }

        try
        {
            return EventTypes.Booking.Contains(type)
                ? new ParseResult(ReadBooking(eventId, type, data), null, null, eventId)
                : new ParseResult(null, ReadMember(eventId, type, data), null, eventId);
        }
        catch (FieldRejectedException ex)
        {
            return ParseResult.Rejected(ex.Rejection, eventId);
        }
    }

    private static Rejection? CheckEnvelope(byte[] bytes)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException)
        {
            return new Rejection(RejectionReasons.NotJson, "message is not valid JSON");
        }

        using (document)
        {
            var root = document.RootElement;
            if (!NamesAreText(root))
            {
                return new Rejection(RejectionReasons.NotJson, "a property name is not text (it escapes an unpaired surrogate)");
            }

            if (root.ValueKind != JsonValueKind.Object)
            {
                return new Rejection(RejectionReasons.NotCloudEvent, "message is not a JSON object");
            }

            if (!root.TryGetProperty("specversion", out var specVersion) || specVersion.ValueKind != JsonValueKind.String)
            {
                return new Rejection(RejectionReasons.NotCloudEvent, "specversion is missing");
            }

            if (!TryGetText(specVersion, out var version) || version != "1.0")
            {
                return new Rejection(RejectionReasons.NotCloudEvent, "specversion must be \"1.0\"");
            }

            foreach (var attribute in new[] { "id", "source", "type" })
            {
                if (!root.TryGetProperty(attribute, out var value) || value.ValueKind != JsonValueKind.String || !TryGetText(value, out var text) || text.Length == 0)
                {
                    return new Rejection(RejectionReasons.NotCloudEvent, $"attribute '{attribute}' is missing, empty or not text");
                }
            }

            if (root.TryGetProperty("data_base64", out _))
            {
                return new Rejection(RejectionReasons.InvalidField, "data must be JSON, not data_base64");
            }
        }

        return null;
    }

    private BookingEvent ReadBooking(string eventId, string type, JsonElement data)
    {
        var bookingId = ReadId(data, "bookingId");
        var version = ReadInteger(data, "version");
        if (version < 1)
        {
            throw Field(RejectionReasons.InvalidField, "data.version must be a positive integer");
        }

        var lecturerId = ReadId(data, "lecturerId");
        var studentId = ReadId(data, "studentId");
        var startsAt = ReadStartsAt(data);
        var duration = ReadInteger(data, "durationMinutes");
        if (duration is < MinDurationMinutes or > MaxDurationMinutes)
        {
            throw Field(RejectionReasons.DurationOutOfRange, $"data.durationMinutes must be {MinDurationMinutes}..{MaxDurationMinutes}");
        }

        var timeZone = ReadTimeZone(data);
        var consent = ReadConsent(data);
        return new BookingEvent(eventId, type, bookingId, version, lecturerId, studentId, startsAt, (int)duration, timeZone, consent);
    }

    private static MemberEvent ReadMember(string eventId, string type, JsonElement data)
    {
        var memberId = ReadId(data, "memberId");
        if (type == EventTypes.MemberErasureRequested)
        {
            return new MemberEvent(eventId, type, memberId, RequestId: ReadId(data, "requestId"), At: ReadTimestamp(data, "requestedAt"));
        }

        var list = ReadId(data, "list");
        var email = ReadString(data, "email", maxLength: 254);
        if (!MailAddress.TryCreate(email, out var address) || address.Address != email)
        {
            throw Field(RejectionReasons.InvalidField, "data.email is not an email address");
        }

        // Pages and mails come in Japanese or English; Japanese is the site's default.
        var locale = "ja";
        if (data.TryGetProperty("locale", out var localeValue) && localeValue.ValueKind != JsonValueKind.Null)
        {
            locale = ReadString(data, "locale", maxLength: 2);
            if (locale is not ("ja" or "en"))
            {
                throw Field(RejectionReasons.InvalidField, "data.locale must be \"ja\" or \"en\"");
            }
        }

        return new MemberEvent(eventId, type, memberId, List: list, Email: email, Locale: locale,
            ConsentRecordId: ReadId(data, "consentRecordId"), At: ReadTimestamp(data, "consentedAt"));
    }

    private static DateTimeOffset ReadTimestamp(JsonElement data, string name)
    {
        var text = ReadString(data, name, maxLength: 40);
        var match = Iso8601Pattern().Match(text);
        if (!match.Success || !match.Groups["zone"].Success
            || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
        {
            throw Field(RejectionReasons.InvalidField, $"data.{name} is not an ISO 8601 date-time with a zone");
        }

        return value.ToUniversalTime();
    }

    private DateTimeOffset ReadStartsAt(JsonElement data)
    {
        var text = ReadString(data, "startsAt", maxLength: 40);
        var match = Iso8601Pattern().Match(text);
        if (!match.Success || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var startsAt))
        {
            throw Field(RejectionReasons.InvalidField, "data.startsAt is not an ISO 8601 date-time");
        }

        var zone = match.Groups["zone"];
        if (!zone.Success || startsAt.Offset != TimeSpan.Zero)
        {
            throw Field(RejectionReasons.StartsAtNotUtc, "data.startsAt must be UTC (suffix Z)");
        }

        if (startsAt > time.GetUtcNow() + MaxLeadTime)
        {
            throw Field(RejectionReasons.StartsAtTooFarOut, "data.startsAt is more than 2 years ahead");
        }

        return startsAt.ToUniversalTime();
    }

    private static string ReadTimeZone(JsonElement data)
    {
        var id = ReadString(data, "lecturerTimeZone", maxLength: 64);
        // Windows ids also resolve on Linux; only IANA ids are part of the contract.
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) || !zone.HasIanaId || id.Contains(' ', StringComparison.Ordinal))
        {
            throw Field(RejectionReasons.UnknownTimeZone, "data.lecturerTimeZone is not a known IANA time zone");
        }

        return id;
    }

    private static RecordingConsent ReadConsent(JsonElement data)
    {
        if (!data.TryGetProperty("recordingConsent", out var consent) || consent.ValueKind == JsonValueKind.Null)
        {
            throw Field(RejectionReasons.MissingField, "data.recordingConsent is missing");
        }

        if (consent.ValueKind != JsonValueKind.Object)
        {
            throw Field(RejectionReasons.InvalidField, "data.recordingConsent must be an object");
        }

        return new RecordingConsent(ReadBoolean(consent, "recordingConsent.lecturer"), ReadBoolean(consent, "recordingConsent.student"));
    }

    private static bool ReadBoolean(JsonElement parent, string path)
    {
        var name = path[(path.LastIndexOf('.') + 1)..];
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw Field(RejectionReasons.MissingField, $"data.{path} is missing");
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Field(RejectionReasons.InvalidField, $"data.{path} must be true or false"),
        };
    }

    private static string ReadId(JsonElement data, string name)
    {
        var value = ReadString(data, name, maxLength: 64);
        return TableKeys.IsValidId(value)
            ? value
            : throw Field(RejectionReasons.InvalidField, $"data.{name} must be 1-64 characters of A-Z a-z 0-9 _ . -");
    }

    private static string ReadString(JsonElement data, string name, int maxLength)
    {
        if (!data.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw Field(RejectionReasons.MissingField, $"data.{name} is missing");
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw Field(RejectionReasons.InvalidField, $"data.{name} must be a string");
        }

        if (!TryGetText(value, out var text))
        {
            throw Field(RejectionReasons.InvalidField, $"data.{name} is not valid text");
        }

        if (text.Length == 0)
        {
            throw Field(RejectionReasons.MissingField, $"data.{name} is empty");
        }

        return text.Length <= maxLength ? text : throw Field(RejectionReasons.InvalidField, $"data.{name} is longer than {maxLength} characters");
    }

    /// <summary>
    /// False when a property name anywhere escapes an unpaired surrogate ("\ud800"): System.Text.Json throws when it has to
    /// compare such a name, so every later look-up in the message would throw instead of answering.
    /// </summary>
    private static bool NamesAreText(JsonElement element)
    {
        try
        {
            return element.ValueKind switch
            {
                JsonValueKind.Object => element.EnumerateObject().All(p => p.Name is not null && NamesAreText(p.Value)),
                JsonValueKind.Array => element.EnumerateArray().All(NamesAreText),
                _ => true,
            };
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// A JSON string as text; false when it cannot be text: an escaped unpaired surrogate (<c>"\ud800"</c>) is valid
    /// JSON syntax, but System.Text.Json throws when asked for it as a string.
    /// </summary>
    private static bool TryGetText(JsonElement value, out string text)
    {
        try
        {
            text = value.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            text = string.Empty;
            return false;
        }
    }

    private static long ReadInteger(JsonElement data, string name)
    {
        if (!data.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw Field(RejectionReasons.MissingField, $"data.{name} is missing");
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number)
            ? number
            : throw Field(RejectionReasons.InvalidField, $"data.{name} must be an integer");
    }

    private static ParseResult Reject(string reason, string detail) => ParseResult.Rejected(new Rejection(reason, detail));

    private static FieldRejectedException Field(string reason, string detail) => new(new Rejection(reason, detail));

    /// <summary>Ends field reading at the first bad field; never leaves the parser.</summary>
    private sealed class FieldRejectedException(Rejection rejection) : Exception(rejection.Detail)
    {
        public Rejection Rejection { get; } = rejection;
    }
}
