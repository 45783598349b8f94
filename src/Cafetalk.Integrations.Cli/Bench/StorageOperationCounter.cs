using System.Collections.Concurrent;
using System.Text.Json;
using Azure.Core;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Cli.Bench;

/// <summary>
/// Counts every storage request as it goes on the wire (one per attempt), by service, telling Azurite's services
/// apart by port. A table request is one transaction whether it touches one entity or a batch of them.
/// </summary>
internal sealed class StorageOperationCounter(int tablePort, int queuePort, int blobPort) : RequestObserver
{
    private long _table;
    private long _tableBatches;
    private long _queue;
    private long _blob;
    private readonly ConcurrentDictionary<string, long> _byKind = new(StringComparer.Ordinal);

    public StorageOperations Snapshot() => new(Interlocked.Read(ref _table), Interlocked.Read(ref _tableBatches), Interlocked.Read(ref _queue), Interlocked.Read(ref _blob));

    /// <summary>Requests so far by kind (<see cref="KindOf"/>), to see what each step of a phase spends.</summary>
    public IReadOnlyDictionary<string, long> SnapshotByKind() => new Dictionary<string, long>(_byKind, StringComparer.Ordinal);

    protected override void Observe(HttpMessage message)
    {
        var uri = message.Request.Uri;
        var port = uri.Port;
        var kind = KindOf(message.Request.Method.Method, uri.Path, uri.Query, port == tablePort);
        if (port == tablePort && message.Request.Method == RequestMethod.Patch && ClearsOnlyOutboxMarkers(message.Request.Content))
        {
            // The outbox's own write (a marker emptied after its send) is told apart from the fact writes it rides on.
            kind += " outbox clear";
        }

        _byKind.AddOrUpdate(kind, 1, (_, n) => n + 1);
        if (port == tablePort)
        {
            Interlocked.Increment(ref _table);
            if (uri.Path.EndsWith("/$batch", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _tableBatches);
            }
        }
        else if (port == queuePort)
        {
            Interlocked.Increment(ref _queue);
        }
        else if (port == blobPort)
        {
            Interlocked.Increment(ref _blob);
        }
    }

    private static bool ClearsOnlyOutboxMarkers(RequestContent? content)
    {
        if (content is null)
        {
            return false;
        }

        using var body = new MemoryStream();
        content.WriteTo(body, CancellationToken.None);
        try
        {
            using var json = JsonDocument.Parse(body.ToArray());
            var columns = json.RootElement.EnumerateObject().Where(p => p.Name is not ("PartitionKey" or "RowKey") && !p.Name.StartsWith("odata.", StringComparison.Ordinal)).ToList();
            return columns.Count > 0 && columns.All(p => p.Name.StartsWith(SiteOutbox.ColumnPrefix, StringComparison.Ordinal));
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// A request named by what it does, without keys or message ids: <c>GET Bookings(key)</c> is a point read,
    /// <c>GET Bookings()</c> a query, <c>POST $batch</c> an entity-group transaction, <c>DELETE booking-events/messages/*</c> a queue delete.
    /// </summary>
    internal static string KindOf(string method, string path, string query, bool isTable)
    {
        // Azurite's path starts with the account name: /devstoreaccount1/<resource>...
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray();
        if (segments.Length == 0)
        {
            return $"{method} /";
        }

        if (isTable)
        {
            var resource = Uri.UnescapeDataString(segments[0]);
            var open = resource.IndexOf('(', StringComparison.Ordinal);
            var name = open < 0 ? resource : resource[..open];
            var shape = open < 0 ? string.Empty : resource.EndsWith("()", StringComparison.Ordinal) ? "()" : "(key)";
            return $"{method} {name}{shape}";
        }

        var queueOrContainer = segments[0];
        var rest = segments.Length switch
        {
            1 => query.Contains("comp=", StringComparison.Ordinal) ? "?" + query.TrimStart('?').Split('&')[0] : string.Empty,
            2 => "/" + segments[1],
            _ => "/" + segments[1] + "/*",
        };
        return $"{method} {queueOrContainer}{rest}";
    }
}

/// <summary>Storage requests by service; <see cref="TableBatches"/> are the entity-group transactions among the table requests.</summary>
internal sealed record StorageOperations(long Table, long TableBatches, long Queue, long Blob)
{
    public long Total => Table + Queue + Blob;

    public static StorageOperations operator -(StorageOperations a, StorageOperations b) =>
        new(a.Table - b.Table, a.TableBatches - b.TableBatches, a.Queue - b.Queue, a.Blob - b.Blob);
}
