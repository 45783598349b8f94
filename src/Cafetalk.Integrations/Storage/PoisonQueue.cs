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
    // A queue message is at most 64 KiB after base64 (48 KiB of text); larger originals go to a blob.
    internal const int MaxInlineMessageBytes = 40 * 1024;

    public async Task<PoisonEnvelope> RejectAsync(string sourceQueue, string originalMessage, string reason, string detail, string correlationId, CancellationToken cancellationToken = default)
    {
        string? inline = originalMessage;
        string? blobName = null;
        if (Encoding.UTF8.GetByteCount(originalMessage) > MaxInlineMessageBytes)
        {
            blobName = $"{sourceQueue}/{correlationId}.txt";
            var container = storage.BlobContainer(BlobContainerNames.PoisonPayloads);
            await container.GetBlobClient(blobName).UploadAsync(BinaryData.FromString(originalMessage), overwrite: true, cancellationToken);
            inline = null;
        }

        var envelope = new PoisonEnvelope(reason, detail, correlationId, sourceQueue, time.GetUtcNow(), inline, blobName);
        await storage.Queue(QueueNames.BookingEventsPoison).SendMessageAsync(envelope.ToJson(), cancellationToken);
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
