using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Tests.Bookings;

/// <summary>
/// Table <c>Bookings</c> held in memory behind the real Azure SDK pipeline (point reads and ETag-guarded merges, as the
/// Table service answers them), so a unit test sees every request <see cref="BookingRows"/> sends and what the row holds.
/// </summary>
internal sealed partial class InMemoryBookingsTable : HttpMessageHandler
{
    private readonly Dictionary<(string Pk, string Rk), JsonObject> _rows = [];
    private int _etags;

    /// <summary>Every request as "METHOD If-Match" (If-Match "-" when none), in order.</summary>
    public List<string> Requests { get; } = [];

    /// <summary>Runs before each guarded merge is answered: a test's stand-in for another writer that got there first.</summary>
    public Action<JsonObject>? BeforeGuardedMerge { get; set; }

    public BookingRows Rows() => new(StorageAccount.FromConnectionString("UseDevelopmentStorage=true",
        new TableClientOptions { Transport = new HttpClientTransport(new HttpClient(this)), Retry = { MaxRetries = 0 } }));

    public void Add(string lecturerId, string bookingId, IReadOnlyDictionary<string, string> columns)
    {
        var row = new JsonObject { ["PartitionKey"] = lecturerId, ["RowKey"] = bookingId, [BookingRow.Status] = nameof(BookingStatus.Confirmed) };
        foreach (var (name, value) in columns)
        {
            row[name] = value;
        }

        _rows[(lecturerId, bookingId)] = Stamp(row);
    }

    public string? Column(string lecturerId, string bookingId, string name) => _rows[(lecturerId, bookingId)][name]?.GetValue<string>();

    /// <summary>Another writer's merge: the row's ETag moves on.</summary>
    public void WriteBehindTheLoopsBack(string lecturerId, string bookingId, string name, string value) =>
        Stamp(_rows[(lecturerId, bookingId)])[name] = value;

    public int Count(string method) => Requests.Count(r => r.StartsWith(method, StringComparison.Ordinal));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var ifMatch = request.Headers.IfMatch.Count > 0 ? request.Headers.IfMatch.First().ToString() : "-";
        Requests.Add($"{request.Method} {(ifMatch == "*" ? "*" : ifMatch == "-" ? "-" : "etag")}");
        var keys = KeysPattern().Match(Uri.UnescapeDataString(request.RequestUri!.AbsolutePath));
        var key = (keys.Groups[1].Value, keys.Groups[2].Value);
        if (!_rows.TryGetValue(key, out var row))
        {
            return Error(HttpStatusCode.NotFound, "ResourceNotFound");
        }

        if (request.Method == HttpMethod.Get)
        {
            return Answer(HttpStatusCode.OK, row, row.ToJsonString());
        }

        if (ifMatch != "*")
        {
            BeforeGuardedMerge?.Invoke(row);
            if (ifMatch != (string)row["odata.etag"]!)
            {
                return Error(HttpStatusCode.PreconditionFailed, "UpdateConditionNotSatisfied");
            }
        }

        var merge = JsonNode.Parse(await request.Content!.ReadAsStringAsync(cancellationToken))!.AsObject();
        foreach (var (name, value) in merge)
        {
            row[name] = value?.DeepClone();
        }

        return Answer(HttpStatusCode.NoContent, Stamp(row), null);
    }

    private JsonObject Stamp(JsonObject row)
    {
        row["odata.etag"] = $"W/\"datetime'{++_etags}'\"";
        return row;
    }

    private static HttpResponseMessage Answer(HttpStatusCode status, JsonObject row, string? body)
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(body ?? string.Empty, Encoding.UTF8, "application/json") };
        response.Headers.TryAddWithoutValidation("ETag", (string)row["odata.etag"]!);
        return response;
    }

    private static HttpResponseMessage Error(HttpStatusCode status, string code)
    {
        var response = new HttpResponseMessage(status)
        {
            Content = new StringContent($"{{\"odata.error\":{{\"code\":\"{code}\",\"message\":{{\"lang\":\"en-US\",\"value\":\"{code}\"}}}}}}", Encoding.UTF8, "application/json"),
        };
        response.Headers.TryAddWithoutValidation("x-ms-error-code", code);
        return response;
    }

    [GeneratedRegex(@"\(PartitionKey='([^']*)',RowKey='([^']*)'\)")]
    private static partial Regex KeysPattern();
}
