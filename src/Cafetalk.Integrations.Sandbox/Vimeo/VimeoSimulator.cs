using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Cafetalk.Integrations.Sandbox.Vimeo;

/// <summary>
/// One request the simulator received, Authorization value left out: <paramref name="AuthScheme"/> names the scheme
/// only, <paramref name="Headers"/> holds the tus headers. A tus PATCH body is not kept (it is the recording): its
/// byte count is.
/// </summary>
public sealed record RecordedVimeoRequest(
    DateTimeOffset ReceivedAtUtc, string Method, string Path, string Query, string Body, int Status,
    string? AuthScheme = null, IReadOnlyDictionary<string, string>? Headers = null, long BodyBytes = 0);

/// <summary>A video as the simulator holds it: the body it was created with, its tus upload, where it may be embedded.</summary>
public sealed record SimulatedVideo(
    string Id,
    JsonObject Body,
    long UploadSize,
    long ReceivedBytes,
    string? ReceivedSha256,
    IReadOnlySet<string> EmbedDomains,
    string? FolderId,
    DateTimeOffset CreatedAtUtc)
{
    public string? Description => Body["description"]?.GetValue<string>();
    public string? PrivacyView => Body["privacy"]?["view"]?.GetValue<string>();
    public string? PrivacyEmbed => Body["privacy"]?["embed"]?.GetValue<string>();
    public string? PrivacyComments => Body["privacy"]?["comments"]?.GetValue<string>();
    public bool? PrivacyDownload => Body["privacy"]?["download"]?.GetValue<bool>();

    /// <summary><c>tus</c> or <c>pull</c> (contract fact <c>simulator-approach</c>).</summary>
    public string Approach { get; init; } = "tus";

    /// <summary>Vimeo's upload.status as last read (contract fact <c>upload-status</c>): in_progress, complete or error.</summary>
    public string UploadStatus { get; init; } = "in_progress";

    /// <summary>Vimeo's transcode.status as last read: in_progress until the upload is complete and processed, then complete or error.</summary>
    public string TranscodeStatus { get; init; } = "in_progress";

    /// <summary>How this video's upload ends once its bytes are in (chosen when it was made).</summary>
    public VimeoProcessingOutcome UploadOutcome { get; init; }

    /// <summary>How this video's transcoding ends (chosen when it was made).</summary>
    public VimeoProcessingOutcome TranscodeOutcome { get; init; }
}

/// <summary>How Vimeo's asynchronous upload or transcoding ends: the material names both ends and says nothing of when.</summary>
public enum VimeoProcessingOutcome
{
    Complete,
    Error,
    /// <summary>Never ends while the simulator runs (as a transcode outcome): the material sets no bound on how long in_progress lasts.</summary>
    StaysInProgress,
}

public sealed record SimulatedFolder(string Id, string Name);

/// <summary>
/// A loopback stand-in for Vimeo's API 3.4 as <c>Contracts/vimeo.contract.json</c> describes it: the resumable tus
/// upload (create with upload.size, PATCH at Upload-Offset with 409 on a mismatch, HEAD for the offset), the token's
/// scopes checked per operation (403, by the contract check), undeclared query parameters refused (400), folders (projects) listed in pages
/// with no name filter, privacy enums, embed domains, deletes, 429 with <c>X-RateLimit-Reset</c>, and a record of
/// every request.
/// </summary>
public sealed class VimeoSimulator : IAsyncDisposable
{
    public static readonly IReadOnlySet<string> PrivacyViews = new HashSet<string>(StringComparer.Ordinal) { "anybody", "contacts", "disable", "nobody", "password", "unlisted", "users" };
    public static readonly IReadOnlySet<string> PrivacyEmbeds = new HashSet<string>(StringComparer.Ordinal) { "private", "public", "whitelist" };
    public static readonly IReadOnlySet<string> PrivacyComments = new HashSet<string>(StringComparer.Ordinal) { "anybody", "contacts", "nobody" };

    /// <summary>Every scope some operation we simulate needs: the sandbox token's default grant.</summary>
    public static readonly IReadOnlyList<string> AllScopes = ["private", "upload", "edit", "delete", "create", "interact"];

    /// <summary>Path under which upload links live (Vimeo's link is opaque; this is the simulator's form of it).</summary>
    public const string TusBucket = "vimeo-sandbox-tus";

    public const string TusVersion = "1.0.0";

    /// <summary>Vimeo's cap on per_page (contract fact <c>projects-list-no-query</c>).</summary>
    public const int MaxPerPage = 100;

    private const int DefaultPerPage = 25;

    // The operations of vimeo.contract.json: method, path segments ("*" one variable segment), declared query names (scopes: the contract check).
    private static readonly Operation[] Operations =
    [
        new("POST", ["me", "videos"], []),
        new("GET", ["me", "videos"], ["containing_uri", "direction", "filter", "filter_embeddable", "filter_playable", "page", "per_page", "query", "sort"]),
        new("GET", ["videos", "*"], []),
        new("PATCH", ["videos", "*"], []),
        new("DELETE", ["videos", "*"], []),
        new("PUT", ["videos", "*", "privacy", "domains", "*"], []),
        new("GET", ["me", "projects"], ["direction", "page", "per_page", "sort"]),
        new("POST", ["me", "projects"], []),
        new("DELETE", ["me", "projects", "*"], ["should_delete_clips"]),
        new("PUT", ["me", "projects", "*", "videos", "*"], []),
        new("GET", ["oauth", "verify"], []),
    ];

    private readonly WebApplication _app;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly List<RecordedVimeoRequest> _requests = [];
    private readonly Dictionary<string, SimulatedVideo> _videos = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Upload> _uploads = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SimulatedFolder> _folders = new(StringComparer.Ordinal);
    private HashSet<string> _scopes = new(AllScopes, StringComparer.Ordinal);
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

    /// <summary>Called after each tus PATCH has appended its bytes (upload id, new offset): lets a test stop the pipeline mid-upload.</summary>
    public Action<string, long>? AfterPatch { get; set; }

    public static async Task<VimeoSimulator> StartAsync(TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        var app = LoopbackHost.Create();
        // A chunk is at most the client's chunk size; Kestrel's 30 MB default stays the ceiling.
        var simulator = new VimeoSimulator(app, time ?? TimeProvider.System);
        // The contract check refuses a token lacking an operation's scope with Vimeo's 403 (vimeo.contract.json auth.scopeRefusal).
        simulator.BaseAddress = await LoopbackHost.StartAsync(app, "vimeo", simulator.HandleAsync, cancellationToken, tokenScopes: simulator.ScopesOf);
        return simulator;
    }

    /// <summary>The settings that point the pipeline's Vimeo client at this simulator.</summary>
    public IReadOnlyDictionary<string, string?> Settings() => new Dictionary<string, string?>
    {
        ["Vimeo:ApiBaseAddress"] = BaseAddress.ToString(),
        ["Vimeo:AccessToken"] = AccessToken,
        ["Vimeo:EmbedDomains:0"] = "cafetalk.com",
    };

    /// <summary>The scopes the sandbox token was granted (default <see cref="AllScopes"/>).</summary>
    public IReadOnlyCollection<string> TokenScopes
    {
        get
        {
            lock (_gate)
            {
                return [.. _scopes];
            }
        }

        set
        {
            lock (_gate)
            {
                _scopes = new HashSet<string>(value, StringComparer.Ordinal);
            }
        }
    }

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
                return [.. _videos.Values.Select(WithUpload).OrderBy(v => v.Id, StringComparer.Ordinal)];
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

    /// <summary>Folders made outside the pipeline (other teams' projects on the same account), so ours may sit on a later page.</summary>
    public void AddFolders(IEnumerable<string> names)
    {
        lock (_gate)
        {
            foreach (var name in names)
            {
                var folder = new SimulatedFolder((_nextId++).ToString(CultureInfo.InvariantCulture), name);
                _folders[folder.Id] = folder;
            }
        }
    }

    /// <summary>How uploads of videos made from now on end once their bytes are in (a pull's fetch, a tus upload's last byte).</summary>
    public VimeoProcessingOutcome UploadOutcome { get; set; }

    /// <summary>How transcoding of videos made from now on ends.</summary>
    public VimeoProcessingOutcome TranscodeOutcome { get; set; }

    /// <summary>How long a pull's fetch, and then transcoding, stay <c>in_progress</c> (zero: settled at the next read).</summary>
    public TimeSpan ProcessingDelay { get; set; }

    /// <summary>The seeded fault plan (off until enabled): every API and upload request is eligible.</summary>
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
            DropUpload(id);
            return _videos.Remove(id);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var arrivedAt = _time.GetUtcNow();
        var authScheme = request.Headers.Authorization.ToString() is { Length: > 0 } auth ? auth.Split(' ')[0] : null;
        var fault = Faults.Next(request.Method, path);
        if (segments is ["files", TusBucket, var uploadId])
        {
            await HandleTusAsync(context, uploadId, arrivedAt, authScheme, fault);
            return;
        }

        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        if (SimulatorFaults.FailsBeforeWork(fault))
        {
            Record(new RecordedVimeoRequest(arrivedAt, request.Method, path, request.QueryString.Value ?? string.Empty, body, SimulatorFaults.StatusOf(fault), authScheme));
            await Faults.RespondAsync(context, fault, DecorateFault, FaultError(fault));
            return;
        }

        (HttpStatusCode Status, JsonNode? Body, List<(string, string)> Headers) answer;
        lock (_gate)
        {
            answer = Dispatch(request, segments, body);
            _requests.Add(new RecordedVimeoRequest(arrivedAt, request.Method, path, request.QueryString.Value ?? string.Empty, body, SimulatorFaults.Recorded(fault, answer.Status), authScheme));
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

    private void Record(RecordedVimeoRequest recorded)
    {
        lock (_gate)
        {
            _requests.Add(recorded);
        }
    }

    private (HttpStatusCode, JsonNode?, List<(string, string)>) Dispatch(HttpRequest request, string[] segments, string body)
    {
        if (!Authorized(request))
        {
            return Error(HttpStatusCode.Unauthorized, 8003, "The user credentials are invalid.");
        }

        if (Operations.FirstOrDefault(o => o.Matches(request.Method, segments)) is not { } operation)
        {
            return Error(HttpStatusCode.NotFound, 5000, "The requested page couldn't be found.");
        }

        // Vimeo answers a parameter its endpoint does not declare as invalid input.
        if (request.Query.Keys.FirstOrDefault(k => !operation.Query.Contains(k, StringComparer.Ordinal)) is { } undeclared)
        {
            return Invalid(undeclared);
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

        return (request.Method, segments) switch
        {
            ("POST", ["me", "videos"]) => CreateVideo(body),
            ("GET", ["me", "videos"]) => Page(request.Query, _videos.Values.Where(v => Matches(v.Description, request.Query["query"])).OrderBy(v => v.Id, StringComparer.Ordinal).Select(v => Describe(WithUpload(v))), "/me/videos"),
            ("GET", ["oauth", "verify"]) => (HttpStatusCode.OK, new JsonObject { ["token_type"] = "bearer", ["scope"] = string.Join(' ', _scopes.Order(StringComparer.Ordinal)), ["app"] = new JsonObject { ["name"] = "Cafetalk sandbox" } }, []),
            ("GET", ["videos", var id]) => WithVideo(id, v => (HttpStatusCode.OK, Describe(WithUpload(v)), [])),
            ("PATCH", ["videos", var id]) => WithVideo(id, v => EditVideo(v, body)),
            ("DELETE", ["videos", var id]) => WithVideo(id, v =>
            {
                _videos.Remove(v.Id);
                DropUpload(v.Id);
                return (HttpStatusCode.NoContent, null, []);
            }),
            ("PUT", ["videos", var id, "privacy", "domains", var domain]) => WithVideo(id, v =>
            {
                _videos[v.Id] = v with { EmbedDomains = new HashSet<string>(v.EmbedDomains.Append(Uri.UnescapeDataString(domain)), StringComparer.Ordinal) };
                return (HttpStatusCode.NoContent, null, []);
            }),
            ("POST", ["me", "projects"]) => CreateFolder(body),
            ("GET", ["me", "projects"]) => Page(request.Query, _folders.Values.OrderBy(f => f.Id, StringComparer.Ordinal).Select(Describe), "/me/projects"),
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

    private (HttpStatusCode, JsonNode?, List<(string, string)>) CreateVideo(string body)
    {
        if (Parse(body) is not { } payload)
        {
            return Invalid(null);
        }

        var invalid = new List<string>();
        var approach = payload["upload"]?["approach"] is JsonValue approachValue && approachValue.TryGetValue<string>(out var named) ? named : null;
        if (approach is not ("tus" or "pull"))
        {
            invalid.Add("upload.approach");
        }

        // A pull names the public URL Vimeo fetches the file from (contract fact pull-link); its size is Vimeo's to find.
        if (approach == "pull" && (payload["upload"]?["link"] is not JsonValue linkValue || !linkValue.TryGetValue<string>(out var link)
            || !Uri.TryCreate(link, UriKind.Absolute, out var linkUri) || (linkUri.Scheme != Uri.UriSchemeHttps && linkUri.Scheme != Uri.UriSchemeHttp)))
        {
            invalid.Add("upload.link");
        }

        // The contract declares upload.size a string holding the byte count.
        long size = 0;
        if (approach != "pull" && (payload["upload"]?["size"] is not JsonValue sizeValue || !sizeValue.TryGetValue<string>(out var sizeText)
            || !long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size <= 0))
        {
            invalid.Add("upload.size");
        }

        CheckPrivacy(payload, invalid);
        if (invalid.Count > 0)
        {
            return Invalid([.. invalid]);
        }

        var video = new SimulatedVideo((_nextId++).ToString(CultureInfo.InvariantCulture), payload, size, 0, null, new HashSet<string>(StringComparer.Ordinal), null, _time.GetUtcNow())
        {
            Approach = approach!,
            UploadOutcome = UploadOutcome,
            TranscodeOutcome = TranscodeOutcome,
        };
        _videos[video.Id] = video;
        if (approach == "tus")
        {
            _uploads[video.Id] = new Upload(size, _time);
        }

        return (HttpStatusCode.Created, Describe(WithUpload(video)), []);
    }

    private (HttpStatusCode, JsonNode?, List<(string, string)>) EditVideo(SimulatedVideo video, string body)
    {
        if (Parse(body) is not { } payload)
        {
            return Invalid(null);
        }

        var invalid = new List<string>();
        CheckPrivacy(payload, invalid);
        if (invalid.Count > 0)
        {
            return Invalid([.. invalid]);
        }

        var merged = (JsonObject)video.Body.DeepClone();
        foreach (var (name, value) in payload)
        {
            if (value is JsonObject inner && merged[name] is JsonObject existing)
            {
                foreach (var (innerName, innerValue) in inner)
                {
                    existing[innerName] = innerValue?.DeepClone();
                }
            }
            else
            {
                merged[name] = value?.DeepClone();
            }
        }

        _videos[video.Id] = video with { Body = merged };
        return (HttpStatusCode.OK, Describe(WithUpload(_videos[video.Id])), []);
    }

    private (HttpStatusCode, JsonNode?, List<(string, string)>) CreateFolder(string body)
    {
        if (Parse(body)?["name"] is not JsonValue name || !name.TryGetValue<string>(out var text) || text.Length == 0)
        {
            return Invalid("name");
        }

        var folder = new SimulatedFolder((_nextId++).ToString(CultureInfo.InvariantCulture), text);
        _folders[folder.Id] = folder;
        return (HttpStatusCode.Created, Describe(folder), []);
    }

    /// <summary>
    /// The tus endpoint of an upload link (contract facts <c>tus-patch</c>, <c>tus-head</c>, <c>tus-offset-conflict</c>):
    /// the link itself is the credential. PATCH bodies are streamed into a running hash, never held.
    /// </summary>
    private async Task HandleTusAsync(HttpContext context, string uploadId, DateTimeOffset arrivedAt, string? authScheme, SimulatedFault fault)
    {
        var request = context.Request;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in new[] { "Tus-Resumable", "Upload-Offset", "Content-Type", "Content-Length" })
        {
            if (request.Headers.TryGetValue(name, out var value))
            {
                headers[name] = value.ToString();
            }
        }

        void Finish(int status, long bytes) =>
            Record(new RecordedVimeoRequest(arrivedAt, request.Method, request.Path.Value ?? "/", request.QueryString.Value ?? string.Empty, string.Empty, status, authScheme, headers, bytes));

        if (SimulatorFaults.FailsBeforeWork(fault))
        {
            Finish(SimulatorFaults.StatusOf(fault), 0);
            await Faults.RespondAsync(context, fault, DecorateFault, FaultError(fault));
            return;
        }

        Upload? upload;
        lock (_gate)
        {
            upload = _uploads.GetValueOrDefault(uploadId);
        }

        var response = context.Response;
        response.Headers["Tus-Resumable"] = TusVersion;
        if (upload is null)
        {
            Finish(StatusCodes.Status404NotFound, 0);
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (request.Headers["Tus-Resumable"].ToString() != TusVersion)
        {
            Finish(StatusCodes.Status412PreconditionFailed, 0);
            response.Headers["Tus-Version"] = TusVersion;
            response.StatusCode = StatusCodes.Status412PreconditionFailed;
            return;
        }

        if (HttpMethods.IsHead(request.Method))
        {
            Finish(StatusCodes.Status200OK, 0);
            response.Headers["Upload-Offset"] = upload.Offset.ToString(CultureInfo.InvariantCulture);
            response.Headers["Upload-Length"] = upload.Size.ToString(CultureInfo.InvariantCulture);
            response.Headers.CacheControl = "no-store";
            response.StatusCode = StatusCodes.Status200OK;
            return;
        }

        if (!HttpMethods.IsPatch(request.Method))
        {
            Finish(StatusCodes.Status405MethodNotAllowed, 0);
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }

        if (request.ContentType != "application/offset+octet-stream")
        {
            Finish(StatusCodes.Status415UnsupportedMediaType, 0);
            response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }

        if (!long.TryParse(request.Headers["Upload-Offset"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var offset) || !upload.TryBegin(offset))
        {
            Finish(StatusCodes.Status409Conflict, 0);
            response.StatusCode = StatusCodes.Status409Conflict;
            return;
        }

        long received;
        try
        {
            received = await upload.AppendAsync(request.Body, context.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or BadHttpRequestException)
        {
            // The client went away mid-chunk: what arrived is kept, as a tus server does.
            Finish(0, upload.End());
            return;
        }

        var newOffset = upload.Offset;
        upload.End();
        Finish(fault == SimulatedFault.None ? StatusCodes.Status204NoContent : SimulatorFaults.StatusOf(fault), received);
        AfterPatch?.Invoke(uploadId, newOffset);
        if (fault != SimulatedFault.None)
        {
            await Faults.RespondAsync(context, fault, DecorateFault, FaultError(fault));
            return;
        }

        response.Headers["Upload-Offset"] = newOffset.ToString(CultureInfo.InvariantCulture);
        response.StatusCode = StatusCodes.Status204NoContent;
    }

    private void DropUpload(string id)
    {
        if (_uploads.Remove(id, out var upload))
        {
            upload.Dispose();
        }
    }

    /// <summary>
    /// The video as of now (contract facts <c>upload-status</c>, <c>processing-async</c>): a pull is fetched
    /// <see cref="ProcessingDelay"/> after it was made, a tus upload's bytes are in at its last byte; either then ends
    /// as its upload outcome says, and a complete upload is transcoded <see cref="ProcessingDelay"/> later, ending as its
    /// transcode outcome says.
    /// </summary>
    private SimulatedVideo WithUpload(SimulatedVideo video)
    {
        var now = _time.GetUtcNow();
        DateTimeOffset? bytesInAt = null;
        if (video.Approach == "pull")
        {
            bytesInAt = now >= video.CreatedAtUtc + ProcessingDelay ? video.CreatedAtUtc + ProcessingDelay : null;
        }
        else if (_uploads.TryGetValue(video.Id, out var upload))
        {
            video = video with { ReceivedBytes = upload.Offset, ReceivedSha256 = upload.Sha256 };
            bytesInAt = upload.CompletedAtUtc;
        }

        var uploadStatus = bytesInAt is null ? "in_progress" : video.UploadOutcome == VimeoProcessingOutcome.Error ? "error" : "complete";
        var transcodeStatus = uploadStatus == "complete" && now >= bytesInAt + ProcessingDelay
            ? video.TranscodeOutcome switch { VimeoProcessingOutcome.Error => "error", VimeoProcessingOutcome.StaysInProgress => "in_progress", _ => "complete" }
            : "in_progress";
        return video with { UploadStatus = uploadStatus, TranscodeStatus = transcodeStatus };
    }

    private bool Authorized(HttpRequest request) => request.Headers.Authorization.ToString() == "Bearer " + AccessToken;

    /// <summary>The sandbox token's scopes for the contract check; null for any other credential (answered 401 here).</summary>
    private IReadOnlyCollection<string>? ScopesOf(HttpRequest request) => Authorized(request) ? TokenScopes : null;

    private bool Throttled(out DateTimeOffset reset)
    {
        lock (_gate)
        {
            reset = _throttledUntil ?? default;
            return _throttledUntil is { } until && _time.GetUtcNow() < until;
        }
    }

    private static void CheckPrivacy(JsonObject payload, List<string> invalid)
    {
        CheckEnum(payload, "view", PrivacyViews, invalid);
        CheckEnum(payload, "embed", PrivacyEmbeds, invalid);
        CheckEnum(payload, "comments", PrivacyComments, invalid);
        if (payload["privacy"]?["download"] is { } download && download.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            invalid.Add("privacy.download");
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

    /// <summary>Vimeo's list envelope (contract fact <c>list-envelope</c>): page and per_page (at most 100), paging links.</summary>
    private static (HttpStatusCode, JsonNode?, List<(string, string)>) Page(IQueryCollection query, IEnumerable<JsonObject> items, string path)
    {
        var page = 1;
        var perPage = DefaultPerPage;
        if ((query.ContainsKey("page") && (!int.TryParse(query["page"], NumberStyles.None, CultureInfo.InvariantCulture, out page) || page < 1))
            || (query.ContainsKey("per_page") && (!int.TryParse(query["per_page"], NumberStyles.None, CultureInfo.InvariantCulture, out perPage) || perPage < 1 || perPage > MaxPerPage)))
        {
            return Invalid(query.ContainsKey("page") && page < 1 ? "page" : "per_page");
        }

        var all = items.ToList();
        var last = Math.Max(1, (all.Count + perPage - 1) / perPage);
        string Link(int p) => $"{path}?page={p}&per_page={perPage}";
        return (HttpStatusCode.OK, new JsonObject
        {
            ["total"] = all.Count,
            ["page"] = page,
            ["per_page"] = perPage,
            ["paging"] = new JsonObject
            {
                ["next"] = page < last ? Link(page + 1) : null,
                ["previous"] = page > 1 ? Link(page - 1) : null,
                ["first"] = Link(1),
                ["last"] = Link(last),
            },
            ["data"] = new JsonArray([.. all.Skip((page - 1) * perPage).Take(perPage)]),
        }, []);
    }

    private JsonObject Describe(SimulatedVideo video) => new()
    {
        ["uri"] = $"/videos/{video.Id}",
        ["name"] = video.Body["name"]?.DeepClone(),
        ["description"] = video.Description,
        ["privacy"] = video.Body["privacy"]?.DeepClone(),
        ["upload"] = video.Approach == "pull"
            ? new JsonObject { ["approach"] = "pull", ["link"] = video.Body["upload"]?["link"]?.DeepClone(), ["status"] = video.UploadStatus }
            : new JsonObject
            {
                ["approach"] = "tus",
                ["size"] = video.UploadSize,
                ["status"] = video.UploadStatus,
                ["upload_link"] = $"{BaseAddress}files/{TusBucket}/{video.Id}",
            },
        ["transcode"] = new JsonObject { ["status"] = video.TranscodeStatus },
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

    private static (HttpStatusCode Status, JsonNode? Body, List<(string, string)> Headers) Invalid(params string[]? fields)
    {
        var refused = Error(HttpStatusCode.BadRequest, 2204, "The parameters passed to this API endpoint did not pass Vimeo's validation.");
        if (fields is { Length: > 0 })
        {
            ((JsonObject)refused.Body!)["invalid_parameters"] = new JsonArray([.. fields.Select(f => (JsonNode)new JsonObject { ["field"] = f })]);
        }

        return refused;
    }

    private static (HttpStatusCode Status, JsonNode? Body, List<(string, string)> Headers) Error(HttpStatusCode status, int code, string message) =>
        (status, new JsonObject { ["error"] = message, ["error_code"] = code }, []);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        lock (_gate)
        {
            foreach (var id in _uploads.Keys.ToList())
            {
                DropUpload(id);
            }
        }

        await _app.DisposeAsync();
    }

    private sealed record Operation(string Method, string[] Segments, string[] Query)
    {
        public bool Matches(string method, string[] segments) =>
            string.Equals(method, Method, StringComparison.OrdinalIgnoreCase) && segments.Length == Segments.Length
            && Segments.Zip(segments).All(p => p.First == "*" || p.First == p.Second);
    }

    /// <summary>One tus upload: the bytes received so far, as an offset and a running SHA-256. One PATCH at a time.</summary>
    private sealed class Upload(long size, TimeProvider time) : IDisposable
    {
        private readonly Lock _lock = new();
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private bool _busy;
        private long _offset;
        private string? _sha256;
        private DateTimeOffset? _completedAt;
        private long _thisPatch;

        public long Size => size;

        public long Offset
        {
            get
            {
                lock (_lock)
                {
                    return _offset;
                }
            }
        }

        /// <summary>When the last declared byte arrived.</summary>
        public DateTimeOffset? CompletedAtUtc
        {
            get
            {
                lock (_lock)
                {
                    return _completedAt;
                }
            }
        }

        public string? Sha256
        {
            get
            {
                lock (_lock)
                {
                    return _sha256;
                }
            }
        }

        /// <summary>Only a PATCH at the current offset of an unfinished upload with no other PATCH running may append.</summary>
        public bool TryBegin(long offset)
        {
            lock (_lock)
            {
                if (_busy || offset != _offset || _sha256 is not null)
                {
                    return false;
                }

                _busy = true;
                _thisPatch = 0;
                return true;
            }
        }

        public async Task<long> AppendAsync(Stream body, CancellationToken cancellationToken)
        {
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                lock (_lock)
                {
                    // Bytes past the declared size are not part of the upload.
                    var take = (int)Math.Min(read, size - _offset);
                    _hash.AppendData(buffer, 0, take);
                    _offset += take;
                    _thisPatch += take;
                    if (_offset == size && _sha256 is null)
                    {
                        _sha256 = Convert.ToHexStringLower(_hash.GetHashAndReset());
                        _completedAt = time.GetUtcNow();
                    }
                }
            }

            lock (_lock)
            {
                return _thisPatch;
            }
        }

        /// <summary>Ends the running PATCH; returns the bytes it appended.</summary>
        public long End()
        {
            lock (_lock)
            {
                _busy = false;
                return _thisPatch;
            }
        }

        public void Dispose() => _hash.Dispose();
    }
}
