using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cafetalk.Integrations.Storage;

/// <summary>What a poisoned message carries: why it was refused, and the original so it can be replayed.</summary>
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

/// <summary>Moves refused messages to <c>booking-events-poison</c> with their reason, never to be retried hot.</summary>
public sealed class PoisonQueue(StorageAccount storage, TimeProvider time)
{
    // The size that counts is the envelope's, not the original's: JSON escaping can make a message six times longer
    // ("<" becomes \u003C), so a 30 KiB original can make an envelope the queue refuses.
    internal const int MaxEnvelopeBytes = StorageAccount.MaxQueueMessageBytes;

    public async Task<PoisonEnvelope> RejectAsync(string sourceQueue, string originalMessage, string reason, string detail, string correlationId, CancellationToken cancellationToken = default)
    {
        var envelope = new PoisonEnvelope(reason, detail, correlationId, sourceQueue, time.GetUtcNow(), originalMessage, null);
        var json = envelope.ToJson();
        if (Encoding.UTF8.GetByteCount(json) > MaxEnvelopeBytes)
        {
            // A name of our own, never the correlation id: that can come from the message, and two envelopes must not share a blob.
            var blobName = $"{sourceQueue}/{time.GetUtcNow():yyyy-MM-dd}/{Guid.NewGuid():N}.txt";
            var container = storage.BlobContainer(BlobContainerNames.PoisonPayloads);
            await container.GetBlobClient(blobName).UploadAsync(BinaryData.FromString(originalMessage), overwrite: false, cancellationToken);
            envelope = envelope with { Message = null, PayloadBlob = blobName };
            json = envelope.ToJson();
        }

        await storage.Queue(QueueNames.BookingEventsPoison).SendMessageAsync(json, cancellationToken);
        return envelope;
    }

    /// <summary>The original message of a poison entry, fetched from its blob when it was too large to inline.</summary>
    public async Task<string> ReadOriginalAsync(PoisonEnvelope envelope, CancellationToken cancellationToken = default)
    {
        if (envelope.Message is not null)
        {
            return envelope.Message;
        }

        var container = storage.BlobContainer(BlobContainerNames.PoisonPayloads);
        var content = await container.GetBlobClient(envelope.PayloadBlob!).DownloadContentAsync(cancellationToken);
        return content.Value.Content.ToString();
    }
}
