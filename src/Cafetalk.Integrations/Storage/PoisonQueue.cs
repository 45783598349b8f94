using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cafetalk.Integrations.Storage;

/// <summary>
/// What a poisoned message leaves behind: why it was refused, and only what its queue's contract defines
/// (<see cref="PoisonMinimiser"/>), so it can be replayed; a message with nothing to keep leaves its digest and length.
/// </summary>
public sealed record PoisonEnvelope(
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("detail")] string Detail,
    [property: JsonPropertyName("correlationId")] string CorrelationId,
    [property: JsonPropertyName("sourceQueue")] string SourceQueue,
    [property: JsonPropertyName("rejectedAtUtc")] DateTimeOffset RejectedAtUtc,
    [property: JsonPropertyName("message")] string? Message,
    [property: JsonPropertyName("payloadBlob")] string? PayloadBlob)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>SHA-256 of the message as it arrived, so the sender can tell which one it was and resend it.</summary>
    [JsonPropertyName("originalSha256")]
    public string? OriginalSha256 { get; init; }

    /// <summary>Its size in UTF-8 bytes.</summary>
    [JsonPropertyName("originalBytes")]
    public int? OriginalBytes { get; init; }

    /// <summary>How many fields outside the contract (or not shaped like their field) were dropped.</summary>
    [JsonPropertyName("droppedFields")]
    public int? DroppedFields { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads an envelope; null when the text is a raw message the Functions host poisoned itself.</summary>
    public static PoisonEnvelope? TryParse(string text)
    {
        try
        {
            var envelope = JsonSerializer.Deserialize<PoisonEnvelope>(text, Json);
            return envelope is { Reason: not null, CorrelationId: not null, SourceQueue: not null } ? envelope : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// Moves refused messages to <c>booking-events-poison</c> with their reason, never to be retried hot. Only the contract's
/// fields are stored, and each entry expires after <see cref="Retention"/> (the queue message's time-to-live).
/// </summary>
public sealed class PoisonQueue(StorageAccount storage, TimeProvider time)
{
    /// <summary>How long a poison entry is kept: a week to fix the cause and replay, then it is gone (policy §9).</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(7);

    public async Task<PoisonEnvelope> RejectAsync(string sourceQueue, string originalMessage, string reason, string detail, string correlationId, CancellationToken cancellationToken = default)
    {
        // Contract fields are bounded (ids 64, email 254 characters), so a minimised envelope always fits a queue message.
        var kept = PoisonMinimiser.Minimise(sourceQueue, originalMessage);
        var envelope = new PoisonEnvelope(reason, detail, correlationId, sourceQueue, time.GetUtcNow(), kept.Message, null)
        {
            OriginalSha256 = kept.Sha256,
            OriginalBytes = kept.Bytes,
            DroppedFields = kept.DroppedFields,
        };
        await storage.Queue(QueueNames.BookingEventsPoison).SendMessageAsync(envelope.ToJson(), visibilityTimeout: null, timeToLive: Retention, cancellationToken);
        return envelope;
    }

    /// <summary>
    /// What can be replayed of a poison entry: its kept message, or the blob an older release wrote for a large one (the
    /// container's lifecycle rule deletes those within days); null when only a digest was kept.
    /// </summary>
    public async Task<string?> ReadOriginalAsync(PoisonEnvelope envelope, CancellationToken cancellationToken = default)
    {
        if (envelope.Message is not null || envelope.PayloadBlob is null)
        {
            return envelope.Message;
        }

        var container = storage.BlobContainer(BlobContainerNames.PoisonPayloads);
        try
        {
            var content = await container.GetBlobClient(envelope.PayloadBlob).DownloadContentAsync(cancellationToken);
            return content.Value.Content.ToString();
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }
}
