using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Xml.Linq;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.IntegrationTests.Fuzzing;

/// <summary>
/// While <see cref="Enabled"/>, answers the last hop of <see cref="PoisonQueue"/> in memory: a message POSTed to
/// <c>booking-events-poison</c> and a blob PUT to <c>poison-payloads</c> are kept here, byte for byte as Azure would store
/// them, and answered as Azure answers; every other request goes on to Azurite. Azurite takes a few milliseconds per write
/// on this machine, so 10,000 refusals per queue would take minutes there; everything up to the write is the real code.
/// </summary>
public sealed class PoisonWritesInMemory : HttpPipelinePolicy
{
    /// <summary>What Azure accepts as one queue message: 64 KiB of (here base64) text.</summary>
    public const int MaxMessageTextLength = 64 * 1024;

    private readonly ConcurrentQueue<(string Envelope, int EncodedLength)> _messages = new();
    private readonly ConcurrentDictionary<string, string> _blobs = new(StringComparer.Ordinal);

    public bool Enabled { get; set; }

    /// <summary>Every envelope written since the last <see cref="Take"/>, with the length of its encoded message text, and the blobs by name.</summary>
    public (IReadOnlyList<(string Envelope, int EncodedLength)> Messages, IReadOnlyDictionary<string, string> Blobs) Take()
    {
        var messages = new List<(string, int)>();
        while (_messages.TryDequeue(out var message))
        {
            messages.Add(message);
        }

        var blobs = new Dictionary<string, string>(_blobs, StringComparer.Ordinal);
        _blobs.Clear();
        return (messages, blobs);
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var request = message.Request;
        var path = request.Uri.Path;
        if (Enabled && request.Method == RequestMethod.Post && path.EndsWith($"/{QueueNames.BookingEventsPoison}/messages", StringComparison.Ordinal))
        {
            var text = XDocument.Load(new MemoryStream(await ContentAsync(request))).Root!.Element("MessageText")!.Value;
            _messages.Enqueue((Encoding.UTF8.GetString(Convert.FromBase64String(text)), text.Length));
            var now = TimeProvider.System.GetUtcNow().ToString("R", CultureInfo.InvariantCulture);
            message.Response = new InMemoryResponse(text.Length > MaxMessageTextLength ? 413 : 201, request.ClientRequestId,
                $"<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessagesList><QueueMessage><MessageId>{Guid.NewGuid()}</MessageId><InsertionTime>{now}</InsertionTime>" +
                $"<ExpirationTime>{now}</ExpirationTime><PopReceipt>AgAAAAMAAAAAAAAA</PopReceipt><TimeNextVisible>{now}</TimeNextVisible></QueueMessage></QueueMessagesList>");
            return;
        }

        var blobPrefix = $"/{BlobContainerNames.PoisonPayloads}/";
        if (Enabled && request.Method == RequestMethod.Put && path.Contains(blobPrefix, StringComparison.Ordinal))
        {
            var name = Uri.UnescapeDataString(path[(path.IndexOf(blobPrefix, StringComparison.Ordinal) + blobPrefix.Length)..]);
            if (!_blobs.TryAdd(name, Encoding.UTF8.GetString(await ContentAsync(request))))
            {
                // PoisonQueue uploads with overwrite: false, so Azure would refuse a second blob of the same name.
                message.Response = new InMemoryResponse(409, request.ClientRequestId, string.Empty);
                return;
            }

            message.Response = new InMemoryResponse(201, request.ClientRequestId, string.Empty,
                ("ETag", $"\"0x{Guid.NewGuid():N}\""), ("Last-Modified", TimeProvider.System.GetUtcNow().ToString("R", CultureInfo.InvariantCulture)));
            return;
        }

        await ProcessNextAsync(message, pipeline);
    }

    private static async Task<byte[]> ContentAsync(Request request)
    {
        using var buffer = new MemoryStream();
        await request.Content!.WriteToAsync(buffer, CancellationToken.None);
        return buffer.ToArray();
    }

    /// <summary>A response made here instead of by the storage service (also used to answer as Azure does where Azurite cannot).</summary>
    internal sealed class InMemoryResponse(int status, string clientRequestId, string body, params (string Name, string Value)[] headers) : Response
    {
        private readonly (string Name, string Value)[] _headers = [.. headers, ("x-ms-request-id", Guid.NewGuid().ToString()), ("x-ms-version", "2025-01-05")];

        public override int Status => status;

        public override string ReasonPhrase => status == 201 ? "Created" : "Refused in memory";

        public override Stream? ContentStream { get; set; } = new MemoryStream(Encoding.UTF8.GetBytes(body));

        public override string ClientRequestId { get; set; } = clientRequestId;

        // The content is a MemoryStream read after the HttpMessage (which disposes its response) is gone: nothing to free.
        public override void Dispose()
        {
        }

        protected override bool ContainsHeader(string name) => _headers.Any(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase));

        protected override IEnumerable<HttpHeader> EnumerateHeaders() => _headers.Select(h => new HttpHeader(h.Name, h.Value));

        protected override bool TryGetHeader(string name, [NotNullWhen(true)] out string? value)
        {
            value = _headers.Where(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();
            return value is not null;
        }

        protected override bool TryGetHeaderValues(string name, [NotNullWhen(true)] out IEnumerable<string>? values)
        {
            values = TryGetHeader(name, out var value) ? [value] : null;
            return values is not null;
        }
    }
}
