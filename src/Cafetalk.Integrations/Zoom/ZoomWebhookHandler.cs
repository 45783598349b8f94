using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Zoom;

/// <summary>What the webhook endpoint should answer.</summary>
public enum ZoomWebhookOutcome
{
    /// <summary>200 with <see cref="ZoomWebhookResult.ResponseJson"/> (<c>plainToken</c>, <c>encryptedToken</c>).</summary>
    UrlValidated,
    /// <summary>200: verified and put on <c>zoom-events</c>.</summary>
    Enqueued,
    /// <summary>200: verified, but an event type nothing here handles.</summary>
    Ignored,
    /// <summary>200: verified, but this event was already accepted; acknowledged so Zoom stops resending, not enqueued again.</summary>
    Duplicate,
    /// <summary>401: signature missing, wrong or stale.</summary>
    Unauthorized,
    /// <summary>400: not JSON, or no event name.</summary>
    BadRequest,
    /// <summary>413: larger than <see cref="ZoomWebhookHandler.MaxBodyBytes"/>.</summary>
    TooLarge,
}

/// <summary>The answer to one webhook delivery; <see cref="Detail"/> names what was wrong, never a value.</summary>
public sealed record ZoomWebhookResult(ZoomWebhookOutcome Outcome, string? ResponseJson = null, string? Detail = null);

/// <summary>
/// Zoom's webhook front door: verifies the signature over the raw body, answers <c>endpoint.url_validation</c>,
/// drops replays, and puts <c>meeting.ended</c> and <c>recording.completed</c> on <c>zoom-events</c> with only the
/// fields the recording pipeline needs, and <c>meeting.deleted</c> and <c>meeting.updated</c> on
/// <c>zoom-meeting-changes</c> with the meeting id and its new time only (the operator's email, host emails, topics,
/// passwords, join links and participant data are left behind).
/// </summary>
public sealed partial class ZoomWebhookHandler(
    ZoomWebhookVerifier verifier,
    StorageAccount storage,
    TimeProvider time,
    ILogger<ZoomWebhookHandler> logger)
{
    public const int MaxBodyBytes = 256 * 1024;
    public const string UrlValidationEvent = "endpoint.url_validation";
    public const string MeetingEndedEvent = "meeting.ended";
    public const string RecordingCompletedEvent = "recording.completed";
    public const string MeetingDeletedEvent = ZoomEventMessage.MeetingDeleted;
    public const string MeetingUpdatedEvent = ZoomEventMessage.MeetingUpdated;

    public async Task<ZoomWebhookResult> HandleAsync(ReadOnlyMemory<byte> rawBody, string? timestamp, string? signature, CancellationToken cancellationToken = default)
    {
        if (rawBody.Length > MaxBodyBytes)
        {
            return new ZoomWebhookResult(ZoomWebhookOutcome.TooLarge, Detail: $"body is over {MaxBodyBytes} bytes");
        }

        var check = verifier.Verify(timestamp, signature, rawBody.Span);
        if (check != ZoomSignatureCheck.Valid)
        {
            logger.LogWarning("Zoom webhook refused: {SignatureCheck}", check);
            return new ZoomWebhookResult(ZoomWebhookOutcome.Unauthorized, Detail: check switch
            {
                ZoomSignatureCheck.MissingHeaders => "x-zm-signature or x-zm-request-timestamp is missing",
                ZoomSignatureCheck.StaleTimestamp => "x-zm-request-timestamp is not within 5 minutes of now",
                _ => "x-zm-signature does not match the body",
            });
        }

        JsonObject root;
        try
        {
            // Duplicate names are refused: which of two "event" keys counts is a guess no parser should make.
            root = JsonNode.Parse(rawBody.Span, documentOptions: new JsonDocumentOptions { MaxDepth = 32, AllowDuplicateProperties = false }) as JsonObject
                ?? throw new JsonException();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: comparing names for duplicates meets one that escapes an unpaired surrogate.
            return new ZoomWebhookResult(ZoomWebhookOutcome.BadRequest, Detail: "body is not a JSON object");
        }

        var eventName = Text(root, "event");
        if (eventName is null)
        {
            return new ZoomWebhookResult(ZoomWebhookOutcome.BadRequest, Detail: "event is missing");
        }

        if (eventName == UrlValidationEvent)
        {
            var plainToken = Text(root["payload"] as JsonObject, "plainToken");
            if (plainToken is null)
            {
                return new ZoomWebhookResult(ZoomWebhookOutcome.BadRequest, Detail: "payload.plainToken is missing");
            }

            var answer = new JsonObject { ["plainToken"] = plainToken, ["encryptedToken"] = verifier.EncryptToken(plainToken) };
            return new ZoomWebhookResult(ZoomWebhookOutcome.UrlValidated, answer.ToJsonString());
        }

        if (eventName is not (MeetingEndedEvent or RecordingCompletedEvent or MeetingDeletedEvent or MeetingUpdatedEvent))
        {
            // The name comes from the body: logged only when it looks like one of Zoom's (object.action).
            logger.LogInformation("Zoom webhook {ZoomEvent} verified and ignored", ZoomEventNamePattern().IsMatch(eventName) ? eventName : "(unrecognised)");
            return new ZoomWebhookResult(ZoomWebhookOutcome.Ignored);
        }

        if (TryMinimise(eventName, root) is not var (message, eventKey))
        {
            return new ZoomWebhookResult(ZoomWebhookOutcome.BadRequest,
                Detail: "payload.object.id, event_ts or the recording files are not what Zoom sends for this event");
        }

        await storage.EnsureProvisionedAsync(cancellationToken);
        var seen = storage.Table(TableNames.ZoomWebhookEvents);
        try
        {
            await seen.AddEntityAsync(new TableEntity(eventKey, string.Empty) { ["Event"] = eventName, ["ReceivedAtUtc"] = time.GetUtcNow() }, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            logger.LogInformation("Zoom webhook {ZoomEvent} {EventKey} already accepted; not enqueued again", eventName, eventKey);
            return new ZoomWebhookResult(ZoomWebhookOutcome.Duplicate);
        }

        try
        {
            await storage.Queue(QueueOf(eventName)).SendMessageAsync(message, cancellationToken);
        }
        catch
        {
            // Forget the key so Zoom's redelivery of this event is accepted rather than taken for a replay.
            await seen.DeleteEntityAsync(eventKey, string.Empty, cancellationToken: CancellationToken.None);
            throw;
        }

        logger.LogInformation("Zoom webhook {ZoomEvent} {EventKey} enqueued on {Queue}", eventName, eventKey, QueueOf(eventName));
        return new ZoomWebhookResult(ZoomWebhookOutcome.Enqueued);
    }

    /// <summary>Changes to a meeting go to the meeting's own handler; the rest of what we take is the recording pipeline's.</summary>
    private static string QueueOf(string eventName) =>
        eventName is MeetingDeletedEvent or MeetingUpdatedEvent ? QueueNames.ZoomMeetingChanges : QueueNames.ZoomEvents;

    /// <summary>
    /// The queue message and its replay key, or null when Zoom signed something the recording function would refuse or a
    /// queue cannot hold: acknowledging it here would only get it refused there.
    /// </summary>
    private static (string Message, string EventKey)? TryMinimise(string eventName, JsonObject root)
    {
        string message;
        string eventKey;
        try
        {
            message = Minimised(eventName, root, out eventKey);
        }
        catch (InvalidOperationException)
        {
            // A string the JSON writer cannot write as text ("\ud800" escapes an unpaired surrogate).
            return null;
        }

        return ZoomEventMessage.TryParse(message) is { MeetingId: not null } && Encoding.UTF8.GetByteCount(message) <= StorageAccount.MaxQueueMessageBytes
            ? (message, eventKey)
            : null;
    }

    /// <summary>
    /// The queue message: ids, times and, for recordings, the files' download URLs with Zoom's 24-hour download
    /// token. The key identifies the event across Zoom's redeliveries (same event, event_ts and object).
    /// </summary>
    internal static string Minimised(string eventName, JsonObject root, out string eventKey)
    {
        var source = (root["payload"] as JsonObject)?["object"] as JsonObject;
        var eventTs = root["event_ts"]?.DeepClone();
        var meetingId = MeetingIdOf(source?["id"]);
        var message = new JsonObject
        {
            ["event"] = eventName,
            ["eventTs"] = eventTs,
            ["meetingId"] = meetingId?.DeepClone(),
            ["meetingUuid"] = source?["uuid"]?.DeepClone(),
            ["hostId"] = source?["host_id"]?.DeepClone(),
        };

        if (eventName == RecordingCompletedEvent)
        {
            message["downloadToken"] = root["download_token"]?.DeepClone();
            var files = new JsonArray();
            foreach (var file in (source?["recording_files"] as JsonArray ?? []).OfType<JsonObject>())
            {
                files.Add(new JsonObject
                {
                    ["id"] = file["id"]?.DeepClone(),
                    ["fileType"] = file["file_type"]?.DeepClone(),
                    ["fileExtension"] = file["file_extension"]?.DeepClone(),
                    ["fileSize"] = file["file_size"]?.DeepClone(),
                    ["recordingType"] = file["recording_type"]?.DeepClone(),
                    ["downloadUrl"] = file["download_url"]?.DeepClone(),
                });
            }

            message["recordingFiles"] = files;
        }
        else if (eventName is MeetingDeletedEvent or MeetingUpdatedEvent)
        {
            // Only what the converger compares: when the meeting now starts and for how long (absent when unchanged).
            message["startTime"] = source?["start_time"]?.DeepClone();
            message["duration"] = source?["duration"]?.DeepClone();
        }
        else
        {
            message["endTime"] = source?["end_time"]?.DeepClone();
        }

        var identity = $"{eventName}|{eventTs?.ToJsonString()}|{source?["uuid"]?.ToJsonString()}|{meetingId?.ToJsonString()}";
        eventKey = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)));
        message["eventKey"] = eventKey;
        return message.ToJsonString();
    }

    /// <summary>
    /// The meeting id as a number: Zoom's <c>meeting.ended</c> carries <c>object.id</c> as a string of digits,
    /// <c>recording.completed</c> as a number. Anything else is passed on as it came, for the message check to refuse.
    /// </summary>
    private static JsonNode? MeetingIdOf(JsonNode? id)
    {
        try
        {
            return id is JsonValue value && value.TryGetValue<string>(out var text)
                && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
                ? JsonValue.Create(parsed)
                : id;
        }
        catch (InvalidOperationException)
        {
            // A string System.Text.Json cannot return as text ("\ud800" escapes an unpaired surrogate).
            return id;
        }
    }

    private static string? Text(JsonObject? node, string name)
    {
        try
        {
            return node?[name] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;
        }
        catch (InvalidOperationException)
        {
            // A string System.Text.Json cannot return as text ("\ud800" escapes an unpaired surrogate).
            return null;
        }
    }

    [GeneratedRegex("^[a-z][a-z_]{0,30}(\\.[a-z][a-z_]{0,30}){1,2}$", RegexOptions.CultureInvariant)]
    private static partial Regex ZoomEventNamePattern();
}
