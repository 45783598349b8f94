using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Cafetalk.Integrations.Sandbox.Vimeo;

/// <summary>One request the simulator received, Authorization header left out.</summary>
public sealed record RecordedVimeoRequest(DateTimeOffset ReceivedAtUtc, string Method, string Path, string Query, string Body, int Status);

/// <summary>A video as the simulator holds it: the body it was created with, the file it pulled, where it may be embedded.</summary>
public sealed record SimulatedVideo(
    string Id,
    JsonObject Body,
    int PulledBytes,
    IReadOnlySet<string> EmbedDomains,
    string? FolderId,
    DateTimeOffset CreatedAtUtc)
{
    public string? Description => Body["description"]?.GetValue<string>();
    public string? PrivacyView => Body["privacy"]?["view"]?.GetValue<string>();
    public string? PrivacyEmbed => Body["privacy"]?["embed"]?.GetValue<string>();
    public string? PrivacyComments => Body["privacy"]?["comments"]?.GetValue<string>();
    public bool? PrivacyDownload => Body["privacy"]?["download"]?.GetValue<bool>();
}

public sealed record SimulatedFolder(string Id, string Name);

/// <summary>
/// A loopback stand-in for Vimeo's API: pull uploads (it GETs <c>upload.link</c> at once, loopback only, so a dead
/// link or an expired token shows), the privacy enums checked (unknown values refused with 400 as Vimeo does),
/// embed domains, folders (projects), deletes, 429 with <c>X-RateLimit-Reset</c>, and a record of every request.
/// </summary>
public sealed class VimeoSimulator : IAsyncDisposable
{
    public static readonly IReadOnlySet<string> PrivacyViews = new HashSet<string>(StringComparer.Ordinal) { "anybody", "contacts", "disable", "nobody", "password", "unlisted", "users" };
    public static readonly IReadOnlySet<string> PrivacyEmbeds = new HashSet<string>(StringComparer.Ordinal) { "private", "public", "whitelist" };
    public static readonly IReadOnlySet<string> PrivacyComments = new HashSet<string>(StringComparer.Ordinal) { "anybody", "contacts", "nobody" };

    private readonly WebApplication _app;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly List<RecordedVimeoRequest> _requests = [];
    private readonly Dictionary<string, SimulatedVideo> _videos = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SimulatedFolder> _folders = new(StringComparer.Ordinal);
    private readonly HttpClient _puller = new() { Timeout = TimeSpan.FromSeconds(30) };
    private DateTimeOffset? _throttledUntil;
    private int _throttledCount;
    private long _nextId = 900_000_001;

    private VimeoSimulator(WebApplication app, TimeProvider time)
    {
        _app = app;
        _time = time;
    }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>A fresh bearer token for this run: nothing secret is written in the repository.</summary>
    public string AccessToken { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public static async Task<VimeoSimulator> StartAsync(TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        var app = LoopbackHost.Create();
        var simulator = new VimeoSimulator(app, time ?? TimeProvider.System);
        simulator.BaseAddress = await LoopbackHost.StartAsync(app, "vimeo", simulator.HandleAsync, cancellationToken);
        return simulator;
    }

    /// <summary>The settings that point the pipeline's Vimeo client at this simulator.</summary>
    public IReadOnlyDictionary<string, string?> Settings() => new Dictionary<string, string?>
    {
        ["Vimeo:ApiBaseAddress"] = BaseAddress.ToString(),
        ["Vimeo:AccessToken"] = AccessToken,
        ["Vimeo:EmbedDomains:0"] = "cafetalk.com",
    };

    public IReadOnlyList<RecordedVimeoRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    public IReadOnlyList<SimulatedVideo> Videos
    {
        get
        {
            lock (_gate)
            {
                return [.. _videos.Values.OrderBy(v => v.Id, StringComparer.Ordinal)];
            }
        }
    }

    public IReadOnlyList<SimulatedFolder> Folders
    {
        get
        {
            lock (_gate)
            {
                return [.. _folders.Values.OrderBy(f => f.Id, StringComparer.Ordinal)];
            }
        }
    }

    public int ThrottledCount
    {
        get
        {
            lock (_gate)
            {
                return _throttledCount;
            }
        }
    }

    public void ClearRequests()
    {
        lock (_gate)
        {
            _requests.Clear();
        }
    }

    /// <summary>Every API request until <paramref name="reset"/> gets a 429 naming that time in <c>X-RateLimit-Reset</c>.</summary>
    public void ThrottleUntil(DateTimeOffset reset)
    {
        lock (_gate)
        {
            _throttledUntil = reset.ToUniversalTime();
        }
    }

    /// <summary>The seeded fault plan (off until enabled): every API request is eligible.</summary>
    public SimulatorFaults Faults { get; } = new((_, _) => true);

    /// <summary>Vimeo names the reset on every 429; an injected one resets at once, so the client may wait for it.</summary>
    private void DecorateFault(HttpResponse response, SimulatedFault fault)
    {
        if (fault == SimulatedFault.TooManyRequests)
        {
            response.Headers["X-RateLimit-Reset"] = _time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
        }
    }

    private static JsonObject FaultError(SimulatedFault fault) =>
        new() { ["error"] = fault == SimulatedFault.TooManyRequests ? "Too many API requests" : "Injected fault", ["error_code"] = 9000 };

    /// <summary>Deletes a video behind the pipeline's back, as someone clicking "delete" on vimeo.com would.</summary>
    public bool RemoveVideo(string id)
    {
        lock (_gate)
        {
            return _videos.Remove(id);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var path = request.Path.Value ?? "/";
        var arrivedAt = _time.GetUtcNow();
        var fault = Faults.Next(request.Method, path);
        if (SimulatorFaults.FailsBeforeWork(fault))
        {
            lock (_gate)
            {
                _requests.Add(new RecordedVimeoRequest(arrivedAt, request.Method, path, request.QueryString.Value ?? string.Empty, body, SimulatorFaults.StatusOf(fault)));
            }

            await Faults.RespondAsync(context, fault, DecorateFault, FaultError(fault));
            return;
        }

        // The pull happens outside the lock: it is a real HTTP GET of the upload link.
        var pulled = request.Method == "POST" && path == "/me/videos" && Authorized(request) && !Throttled(out _) ? await PullAsync(body, context.RequestAborted) : null;
        (HttpStatusCode Status, JsonNode? Body, List<(string, string)> Headers) answer;
        lock (_gate)
        {
            answer = Dispatch(request, path, body, pulled);
            _requests.Add(new RecordedVimeoRequest(arrivedAt, request.Method, path, request.QueryString.Value ?? string.Empty, body, SimulatorFaults.Recorded(fault, answer.Status)));
        }

        if (fault != SimulatedFault.None)
        {
            // The work is done; the client is told otherwise.
            await Faults.RespondAsync(context, fault, DecorateFault, FaultError(fault));
            return;
        }

        context.Response.StatusCode = (int)answer.Status;
        foreach (var (name, value) in answer.Headers)
        {
            context.Response.Headers[name] = value;
        }

        if (answer.Body is not null)
        {
            context.Response.ContentType = "application/vnd.vimeo.video+json";
            await context.Response.WriteAsync(answer.Body.ToJsonString(), context.RequestAborted);
        }
    }

    private (HttpStatusCode, JsonNode?, List<(string, string)>) Dispatch(HttpRequest request, string path, string body, PullResult? pulled)
    {
        if (!Authorized(request))
        {
            return Error(HttpStatusCode.Unauthorized, 8003, "Unauthorized");
        }

        if (Throttled(out var reset))
        {
            _throttledCount++;
            var throttled = Error(HttpStatusCode.TooManyRequests, 9000, "Too many API requests");
            throttled.Headers.Add(("X-RateLimit-Limit", "250"));
            throttled.Headers.Add(("X-RateLimit-Remaining", "0"));
            throttled.Headers.Add(("X-RateLimit-Reset", reset.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture)));
            return throttled;
        }

        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return (request.Method, segments) switch
        {
            ("POST", ["me", "videos"]) => CreateVideo(body, pulled!),
            ("GET", ["me", "videos"]) => List(_videos.Values.Where(v => Matches(v.Description, request.Query["query"])).Select(Describe)),
            ("GET", ["videos", var id]) => WithVideo(id, v => (HttpStatusCode.OK, Describe(v), [])),
            ("DELETE", ["videos", var id]) => WithVideo(id, v =>
            {
                _videos.Remove(v.Id);
                return (HttpStatusCode.NoContent, null, []);
            }),
            ("PUT", ["videos", var id, "privacy", "domains", var domain]) => WithVideo(id, v =>
            {
                _videos[v.Id] = v with { EmbedDomains = new HashSet<string>(v.EmbedDomains.Append(Uri.UnescapeDataString(domain)), StringComparer.Ordinal) };
                return (HttpStatusCode.NoContent, null, []);
            }),
            ("POST", ["me", "projects"]) => CreateFolder(body),
            ("GET", ["me", "projects"]) => List(_folders.Values.Where(f => Matches(f.Name, request.Query["query"])).Select(Describe)),
            ("DELETE", ["me", "projects", var folderId]) => _folders.Remove(folderId)
                ? (HttpStatusCode.NoContent, null, [])
                : Error(HttpStatusCode.NotFound, 5000, "The requested folder couldn't be found."),
            ("PUT", ["me", "projects", var folderId, "videos", var id]) => _folders.ContainsKey(folderId)
                ? WithVideo(id, v =>
                {
                    _videos[v.Id] = v with { FolderId = folderId };
                    return (HttpStatusCode.NoContent, null, []);
                })
                : Error(HttpStatusCode.NotFound, 5000, "The requested folder couldn't be found."),
            _ => Error(HttpStatusCode.NotFound, 5000, "The requested page couldn't be found."),
        };
    }

    private (HttpStatusCode, JsonNode?, List<(string, string)>) CreateVideo(string body, PullResult pulled)
    {
        if (Parse(body) is not { } payload)
        {
            return Error(HttpStatusCode.BadRequest, 2204, "The parameters passed to this API endpoint did not pass Vimeo's validation.");
        }

        var invalid = new List<string>();
        if (payload["upload"]?["approach"]?.GetValue<string>() != "pull")
        {
            invalid.Add("upload.approach");
        }

        CheckEnum(payload, "view", PrivacyViews, invalid);
        CheckEnum(payload, "embed", PrivacyEmbeds, invalid);
        CheckEnum(payload, "comments", PrivacyComments, invalid);
        if (payload["privacy"]?["download"] is { } download && download.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            invalid.Add("privacy.download");
        }

        if (pulled.Refusal is { } refusal)
        {
            invalid.Add(refusal);
        }

        if (invalid.Count > 0)
        {
            var refused = Error(HttpStatusCode.BadRequest, 2204, "The parameters passed to this API endpoint did not pass Vimeo's validation.");
            ((JsonObject)refused.Item2!)["invalid_parameters"] = new JsonArray([.. invalid.Select(f => (JsonNode)new JsonObject { ["field"] = f })]);
            return refused;
        }

        var video = new SimulatedVideo((_nextId++).ToString(CultureInfo.InvariantCulture), payload, pulled.Bytes, new HashSet<string>(StringComparer.Ordinal), null, _time.GetUtcNow());
        _videos[video.Id] = video;
        return (HttpStatusCode.Created, Describe(video), []);
    }

    private (HttpStatusCode, JsonNode?, List<(string, string)>) CreateFolder(string body)
    {
        if (Parse(body)?["name"] is not JsonValue name || !name.TryGetValue<string>(out var text) || text.Length == 0)
        {
            return Error(HttpStatusCode.BadRequest, 2204, "The parameters passed to this API endpoint did not pass Vimeo's validation.");
        }

        var folder = new SimulatedFolder((_nextId++).ToString(CultureInfo.InvariantCulture), text);
        _folders[folder.Id] = folder;
        return (HttpStatusCode.Created, Describe(folder), []);
    }

    private sealed record PullResult(int Bytes, string? Refusal);

    /// <summary>Fetches upload.link the way Vimeo's pull does; only loopback addresses may be fetched here.</summary>
    private async Task<PullResult> PullAsync(string body, CancellationToken cancellationToken)
    {
        var link = Parse(body)?["upload"]?["link"] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
        if (!Uri.TryCreate(link, UriKind.Absolute, out var uri) || !uri.IsLoopback)
        {
            return new PullResult(0, "upload.link");
        }

        try
        {
            using var response = await _puller.GetAsync(uri, cancellationToken);
            return response.IsSuccessStatusCode
                ? new PullResult((await response.Content.ReadAsByteArrayAsync(cancellationToken)).Length, null)
                : new PullResult(0, "upload.link");
        }
        catch (HttpRequestException)
        {
            return new PullResult(0, "upload.link");
        }
    }

    private bool Authorized(HttpRequest request) => request.Headers.Authorization.ToString() == "Bearer " + AccessToken;

    private bool Throttled(out DateTimeOffset reset)
    {
        lock (_gate)
        {
            reset = _throttledUntil ?? default;
            return _throttledUntil is { } until && _time.GetUtcNow() < until;
        }
    }

    private static void CheckEnum(JsonObject payload, string field, IReadOnlySet<string> allowed, List<string> invalid)
    {
        if (payload["privacy"]?[field] is { } node && (node.GetValueKind() != JsonValueKind.String || !allowed.Contains(node.GetValue<string>())))
        {
            invalid.Add("privacy." + field);
        }
    }

    private static bool Matches(string? value, string? query) => string.IsNullOrEmpty(query) || (value?.Contains(query, StringComparison.Ordinal) ?? false);

    private (HttpStatusCode, JsonNode?, List<(string, string)>) WithVideo(string id, Func<SimulatedVideo, (HttpStatusCode, JsonNode?, List<(string, string)>)> action) =>
        _videos.TryGetValue(id, out var video) ? action(video) : Error(HttpStatusCode.NotFound, 5000, "The requested video couldn't be found.");

    private static (HttpStatusCode, JsonNode?, List<(string, string)>) List(IEnumerable<JsonObject> items)
    {
        var data = items.ToList();
        return (HttpStatusCode.OK, new JsonObject { ["total"] = data.Count, ["page"] = 1, ["per_page"] = 25, ["data"] = new JsonArray([.. data]) }, []);
    }

    private static JsonObject Describe(SimulatedVideo video) => new()
    {
        ["uri"] = $"/videos/{video.Id}",
        ["name"] = video.Body["name"]?.DeepClone(),
        ["description"] = video.Description,
        ["privacy"] = video.Body["privacy"]?.DeepClone(),
        ["upload"] = new JsonObject { ["approach"] = "pull", ["status"] = "complete" },
        ["created_time"] = video.CreatedAtUtc.ToString("O", CultureInfo.InvariantCulture),
    };

    private static JsonObject Describe(SimulatedFolder folder) => new() { ["uri"] = $"/users/1/projects/{folder.Id}", ["name"] = folder.Name };

    private static JsonObject? Parse(string body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static (HttpStatusCode Status, JsonNode? Body, List<(string, string)> Headers) Error(HttpStatusCode status, int code, string message) =>
        (status, new JsonObject { ["error"] = message, ["error_code"] = code }, []);

    public async ValueTask DisposeAsync()
    {
        _puller.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
