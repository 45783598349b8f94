using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Cafetalk.Integrations.Sandbox.Zoom;

/// <summary>One request the simulator received, Authorization header left out.</summary>
public sealed record RecordedZoomRequest(
    DateTimeOffset ReceivedAtUtc,
    string Method,
    string Path,
    string Query,
    IReadOnlyDictionary<string, string> Headers,
    string Body,
    int Status)
{
    public bool IsApi => Path.StartsWith("/v2/", StringComparison.Ordinal);
    public bool IsToken => Path == "/oauth/token";
    public bool IsCreate => Method == "POST" && IsApi && Path.EndsWith("/meetings", StringComparison.Ordinal);
}

/// <summary>A meeting as the simulator holds it, with any payload field Zoom would not expect from us.</summary>
public sealed record SimulatedMeeting(long Id, string HostId, JsonObject Body, IReadOnlyList<string> UnexpectedFields);

/// <summary>A meeting instance's cloud recording: one MP4 file of <paramref name="Size"/> bytes generated from <paramref name="Seed"/>.</summary>
public sealed record SimulatedRecording(long MeetingId, string Uuid, string FileId, long Size, ulong Seed)
{
    /// <summary>SHA-256 of the file's bytes, hex: what Vimeo must end up holding.</summary>
    public string Sha256() => GeneratedRecording.Sha256(Seed, Size);
}

/// <summary>A webhook body with the headers Zoom would send with it.</summary>
public sealed record SignedZoomWebhook(string Body, string Timestamp, string Signature);

/// <summary>
/// A loopback stand-in for Zoom: Server-to-Server OAuth, the meetings API with Zoom's limits (a per-second budget,
/// 100 creates/updates per host per UTC day, 429 with and without Retry-After), signed webhooks, fault injection,
/// and a record of every request for tests to assert on.
/// </summary>
public sealed class ZoomSimulator : IAsyncDisposable
{
    public const string AccountId = "sandbox-account";
    public const string ClientId = "sandbox-client";
    // Loopback-only sandbox credentials, not secrets.
    public const string ClientSecret = "sandbox-client-secret";
    public const string WebhookSecretToken = "sandbox-webhook-secret";
    public const string DefaultHostUserId = "sandbox-host-default";
    public const int TokenLifetimeSeconds = 3600;

    /// <summary>The scopes the sandbox Server-to-Server app is granted: what the meeting and recording calls we make need.</summary>
    public static readonly IReadOnlyList<string> GrantedScopes = ["meeting:read:admin", "meeting:write:admin", "recording:read:admin", "recording:write:admin"];

    private static readonly HashSet<string> ExpectedMeetingFields = new(StringComparer.Ordinal)
    {
        "topic", "type", "start_time", "duration", "timezone", "agenda", "settings",
        "settings.waiting_room", "settings.join_before_host", "settings.auto_recording",
    };

    private readonly WebApplication _app;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly List<RecordedZoomRequest> _requests = [];
    private readonly Dictionary<long, SimulatedMeeting> _meetings = [];
    private readonly HashSet<string> _tokens = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Host, DateOnly Day), int> _dailyWrites = [];
    private readonly Dictionary<long, SimulatedRecording> _recordings = [];
    private readonly Dictionary<string, (long MeetingId, bool Expired)> _downloadTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _fileTickets = new(StringComparer.Ordinal);
    private long _failDownloadsAfterBytes;
    private int _failDownloads;
    private long _secondWindow;
    private int _secondCount;
    private int _throttledCount;
    private int _failNext;
    private HttpStatusCode _failStatus = HttpStatusCode.InternalServerError;
    private int _throttleNext;
    private int _commitThenFailCreates;
    private long _nextMeetingId = 81_000_000_000;
    // Join links carry a per-meeting password, as Zoom's do, so a leaked link is a findable value.
    private readonly byte[] _joinPasswordKey = RandomNumberGenerator.GetBytes(16);

    private ZoomSimulator(WebApplication app, TimeProvider time)
    {
        _app = app;
        _time = time;
    }

    /// <summary>http://127.0.0.1:{port}/ — both the API and the OAuth base address.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Every access token, download token and join link this simulator handed out, for the log scan.</summary>
    public IssuedValues Issued { get; } = new();

    /// <summary>Requests per second across the account before a 429 (Zoom Medium on Pro: 20).</summary>
    public int RequestsPerSecond { get; set; } = 20;

    /// <summary>Meeting creates and updates per host per UTC day (Zoom: 100).</summary>
    public int DailyLimitPerHost { get; set; } = 100;

    /// <summary>
    /// Whether the daily-limit 429 carries <c>X-RateLimit-Type: Daily-limit</c>. Zoom's rate-limit page shows the header;
    /// answers Zoom staff quoted came with the body alone. Off by default (the stricter case); clients must cope with both.
    /// </summary>
    public bool DailyLimitSendsRateLimitType { get; set; }

    public static async Task<ZoomSimulator> StartAsync(TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        var app = LoopbackHost.Create();
        var simulator = new ZoomSimulator(app, time ?? TimeProvider.System);
        // The contract hook refuses a token in the query, a timezone off Zoom's list and a token lacking an operation's scopes.
        simulator.BaseAddress = await LoopbackHost.StartAsync(app, "zoom", simulator.HandleAsync, cancellationToken, tokenScopes: simulator.ScopesOf);
        return simulator;
    }

    /// <summary>The scopes of the request's bearer token, for the contract check; null when it carries none of ours.</summary>
    private IReadOnlyCollection<string>? ScopesOf(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        lock (_gate)
        {
            return authorization.StartsWith("Bearer ", StringComparison.Ordinal) && _tokens.Contains(authorization["Bearer ".Length..]) ? [.. GrantedScopes] : null;
        }
    }

    /// <summary>The settings that point the pipeline's Zoom client at this simulator.</summary>
    public IReadOnlyDictionary<string, string?> Settings() => new Dictionary<string, string?>
    {
        ["Zoom:ApiBaseAddress"] = BaseAddress.ToString(),
        ["Zoom:OAuthBaseAddress"] = BaseAddress.ToString(),
        ["Zoom:AccountId"] = AccountId,
        ["Zoom:ClientId"] = ClientId,
        ["Zoom:ClientSecret"] = ClientSecret,
        ["Zoom:WebhookSecretToken"] = WebhookSecretToken,
        ["Zoom:DefaultHostUserId"] = DefaultHostUserId,
        ["Zoom:BookingReferenceKey"] = "sandbox-booking-reference-key",
    };

    public IReadOnlyList<RecordedZoomRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    public IReadOnlyList<SimulatedMeeting> Meetings
    {
        get
        {
            lock (_gate)
            {
                return [.. _meetings.Values.OrderBy(m => m.Id)];
            }
        }
    }

    /// <summary>
    /// Pairs of meetings on one host whose times overlap. Zoom lets a user schedule as many meetings as they like and
    /// only refuses to run a second at once (1 at a time on Pro, 2 on Business and above), so the simulator accepts
    /// overlapping creates, as Zoom does, and counts them here for tests and the demo.
    /// </summary>
    public int OverlappingMeetings
    {
        get
        {
            lock (_gate)
            {
                var overlaps = 0;
                foreach (var host in _meetings.Values.GroupBy(m => m.HostId))
                {
                    var spans = host.Select(m => (Start: StartsAt(m), End: EndsAt(m))).OrderBy(s => s.Start).ToList();
                    for (var i = 0; i < spans.Count; i++)
                    {
                        for (var j = i + 1; j < spans.Count && spans[j].Start < spans[i].End; j++)
                        {
                            overlaps++;
                        }
                    }
                }

                return overlaps;
            }
        }
    }

    /// <summary>How many 429s the per-second budget has answered.</summary>
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

    /// <summary>The next <paramref name="count"/> API requests fail with <paramref name="status"/> before doing anything.</summary>
    public void FailNext(int count, HttpStatusCode status = HttpStatusCode.InternalServerError)
    {
        lock (_gate)
        {
            _failNext = count;
            _failStatus = status;
        }
    }

    /// <summary>The next <paramref name="count"/> API requests get a per-second 429 (alternately with and without Retry-After).</summary>
    public void ThrottleNext(int count)
    {
        lock (_gate)
        {
            _throttleNext = count;
        }
    }

    /// <summary>The next create is stored, then answered 500: the caller never learns the meeting exists, as after a crash.</summary>
    public void CommitThenFailNextCreate()
    {
        lock (_gate)
        {
            _commitThenFailCreates++;
        }
    }

    /// <summary>
    /// The seeded fault plan (off until enabled): the meetings and recordings API and the OAuth token endpoint are
    /// eligible; the recording downloads Vimeo pulls are not (they are not the pipeline's requests).
    /// </summary>
    public SimulatorFaults Faults { get; } = new((_, path) => path.StartsWith("/v2/", StringComparison.Ordinal) || path == "/oauth/token");

    /// <summary>Deletes a meeting behind the pipeline's back, as a host clicking "delete" in Zoom would.</summary>
    public bool RemoveMeeting(long meetingId)
    {
        lock (_gate)
        {
            return _meetings.Remove(meetingId);
        }
    }

    /// <summary>Moves a meeting behind the pipeline's back, as a host editing it in Zoom's web portal would.</summary>
    public bool EditMeeting(long meetingId, DateTimeOffset startsAtUtc, int durationMinutes)
    {
        lock (_gate)
        {
            if (!_meetings.TryGetValue(meetingId, out var meeting))
            {
                return false;
            }

            var body = (JsonObject)meeting.Body.DeepClone();
            body["start_time"] = startsAtUtc.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            body["duration"] = durationMinutes;
            _meetings[meetingId] = meeting with { Body = body };
            return true;
        }
    }

    /// <summary>
    /// A <c>meeting.deleted</c> body as Zoom documents it (Rivet's MeetingDeletedEvent): <c>object.id</c> a number, the
    /// operator's email, the topic and the time the meeting had.
    /// </summary>
    public string MeetingDeletedBody(long meetingId, string hostId, DateTimeOffset startsAtUtc, int durationMinutes) => new JsonObject
    {
        ["event"] = "meeting.deleted",
        ["event_ts"] = _time.GetUtcNow().ToUnixTimeMilliseconds(),
        ["payload"] = new JsonObject
        {
            ["account_id"] = AccountId,
            ["operator"] = "host.person@example.com",
            ["operator_id"] = hostId,
            ["operation"] = "single",
            ["object"] = new JsonObject
            {
                ["id"] = meetingId,
                ["uuid"] = $"uuid-{meetingId}==",
                ["host_id"] = hostId,
                ["topic"] = "Cafetalk lesson",
                ["type"] = 2,
                ["start_time"] = startsAtUtc.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                ["duration"] = durationMinutes,
                ["timezone"] = "UTC",
            },
        },
    }.ToJsonString();

    /// <summary>
    /// A <c>meeting.updated</c> body as Zoom documents it (Rivet's MeetingUpdatedEvent): the changed fields in
    /// <c>object</c> (with the join link and passcode a portal edit carries), their old values in <c>old_object</c>.
    /// </summary>
    public string MeetingUpdatedBody(long meetingId, string hostId, DateTimeOffset startsAtUtc, int durationMinutes, DateTimeOffset oldStartsAtUtc, int oldDurationMinutes) => new JsonObject
    {
        ["event"] = "meeting.updated",
        ["event_ts"] = _time.GetUtcNow().ToUnixTimeMilliseconds(),
        ["payload"] = new JsonObject
        {
            ["account_id"] = AccountId,
            ["operator"] = "host.person@example.com",
            ["operator_id"] = hostId,
            ["scope"] = "single",
            ["object"] = new JsonObject
            {
                ["id"] = meetingId,
                ["start_time"] = startsAtUtc.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                ["duration"] = durationMinutes,
                ["join_url"] = $"https://zoom.example/j/{meetingId}?pwd=portal-edit-secret",
                ["password"] = "portal-edit-secret",
            },
            ["old_object"] = new JsonObject
            {
                ["id"] = meetingId,
                ["start_time"] = oldStartsAtUtc.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                ["duration"] = oldDurationMinutes,
            },
            ["time_stamp"] = _time.GetUtcNow().ToUnixTimeMilliseconds(),
        },
    }.ToJsonString();

    /// <summary>Cloud recordings Zoom still holds (deleted ones are gone).</summary>
    public IReadOnlyList<SimulatedRecording> Recordings
    {
        get
        {
            lock (_gate)
            {
                return [.. _recordings.Values.OrderBy(r => r.MeetingId)];
            }
        }
    }

    /// <summary>Every download token issued so far stops working, as Zoom's do 24 hours after the webhook.</summary>
    public void ExpireDownloadTokens()
    {
        lock (_gate)
        {
            foreach (var token in _downloadTokens.Keys.ToList())
            {
                _downloadTokens[token] = (_downloadTokens[token].MeetingId, true);
            }
        }
    }

    /// <summary>The meeting's recording, created on first use with a fresh webhook download token.</summary>
    private (SimulatedRecording Recording, string Token) RecordingWithNewToken(long meetingId)
    {
        lock (_gate)
        {
            if (!_recordings.TryGetValue(meetingId, out var recording))
            {
                recording = new SimulatedRecording(meetingId, $"uuid-{meetingId}==", "file-1", RecordingBytes, BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)));
                _recordings[meetingId] = recording;
            }

            var token = "dl-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            _downloadTokens[token] = (meetingId, false);
            Issued.Add("zoom-download-token", token);
            return (recording, token);
        }
    }

    /// <summary>Signs a webhook body the way Zoom does: <c>v0=hex(HMAC-SHA256(secret, "v0:{ts}:{body}"))</c>.</summary>
    public SignedZoomWebhook SignWebhook(string body, DateTimeOffset? sentAt = null, string secret = WebhookSecretToken)
    {
        var timestamp = (sentAt ?? _time.GetUtcNow()).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var hash = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"v0:{timestamp}:{body}"));
        return new SignedZoomWebhook(body, timestamp, "v0=" + Convert.ToHexStringLower(hash));
    }

    /// <summary>POSTs a signed webhook to <paramref name="target"/>, as Zoom delivers it.</summary>
    public async Task<HttpResponseMessage> SendWebhookAsync(Uri target, string body, DateTimeOffset? sentAt = null, CancellationToken cancellationToken = default)
    {
        var signed = SignWebhook(body, sentAt);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new StringContent(signed.Body, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-zm-request-timestamp", signed.Timestamp);
        request.Headers.Add("x-zm-signature", signed.Signature);
        return await http.SendAsync(request, cancellationToken);
    }

    public string UrlValidationBody(string plainToken) => new JsonObject
    {
        ["event"] = "endpoint.url_validation",
        ["event_ts"] = _time.GetUtcNow().ToUnixTimeMilliseconds(),
        ["payload"] = new JsonObject { ["plainToken"] = plainToken },
    }.ToJsonString();

    /// <summary>A <c>meeting.ended</c> body as Zoom sends it, host email and topic included; Zoom types its <c>object.id</c> as a string.</summary>
    public string MeetingEndedBody(long meetingId, string hostId) => new JsonObject
    {
        ["event"] = "meeting.ended",
        ["event_ts"] = _time.GetUtcNow().ToUnixTimeMilliseconds(),
        ["payload"] = new JsonObject
        {
            ["account_id"] = AccountId,
            ["operator"] = "host.person@example.com",
            ["object"] = new JsonObject
            {
                ["id"] = meetingId.ToString(CultureInfo.InvariantCulture),
                ["uuid"] = $"uuid-{meetingId}==",
                ["host_id"] = hostId,
                ["topic"] = "Cafetalk lesson",
                ["type"] = 2,
                ["start_time"] = "2030-01-01T10:00:00Z",
                ["end_time"] = "2030-01-01T10:50:00Z",
                ["duration"] = 50,
                ["timezone"] = "Asia/Tokyo",
            },
        },
    }.ToJsonString();

    /// <summary>A <c>recording.completed</c> body as Zoom sends it, with a 24-hour download token and the host's email.</summary>
    public string RecordingCompletedBody(long meetingId, string hostId, DateTimeOffset? sentAt = null)
    {
        var (recording, token) = RecordingWithNewToken(meetingId);
        return new JsonObject
    {
        ["event"] = "recording.completed",
        ["event_ts"] = (sentAt ?? _time.GetUtcNow()).ToUnixTimeMilliseconds(),
        ["download_token"] = token,
        ["payload"] = new JsonObject
        {
            ["account_id"] = AccountId,
            ["object"] = new JsonObject
            {
                ["id"] = meetingId,
                ["uuid"] = $"uuid-{meetingId}==",
                ["host_id"] = hostId,
                ["host_email"] = "host.person@example.com",
                ["topic"] = "Cafetalk lesson",
                ["recording_files"] = new JsonArray
                {
                    new JsonObject
                    {
                        ["id"] = "file-0",
                        ["file_type"] = "M4A",
                        ["file_extension"] = "M4A",
                        ["file_size"] = 512,
                        ["recording_type"] = "audio_only",
                        ["download_url"] = $"{BaseAddress}rec/download/{meetingId}/file-0",
                    },
                    new JsonObject
                    {
                        ["id"] = recording.FileId,
                        ["file_type"] = "MP4",
                        ["file_extension"] = "MP4",
                        ["file_size"] = recording.Size,
                        ["recording_type"] = "shared_screen_with_speaker_view",
                        ["download_url"] = DownloadUrl(recording),
                    },
                },
            },
        },
    }.ToJsonString();
    }

    private string DownloadUrl(SimulatedRecording recording) => $"{BaseAddress}rec/download/{recording.MeetingId}/{recording.FileId}";

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        request.EnableBuffering();
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        if (request.Path.StartsWithSegments("/rec/download", StringComparison.Ordinal))
        {
            await ServeDownloadAsync(context);
            return;
        }

        if (request.Path.StartsWithSegments("/rec/files", StringComparison.Ordinal))
        {
            await ServeFileAsync(context);
            return;
        }

        var arrivedAt = _time.GetUtcNow();
        var headerCopy = request.Headers
            .Where(h => !string.Equals(h.Key, "Authorization", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var fault = Faults.Next(request.Method, request.Path.Value ?? "/");
        if (SimulatorFaults.FailsBeforeWork(fault))
        {
            lock (_gate)
            {
                _requests.Add(new RecordedZoomRequest(arrivedAt, request.Method, request.Path.Value ?? "/", request.QueryString.Value ?? string.Empty, headerCopy, body, SimulatorFaults.StatusOf(fault)));
            }

            await Faults.RespondAsync(context, fault, (response, _) => response.Headers["X-RateLimit-Type"] = "QPS");
            return;
        }

        var (status, response, headers) = Dispatch(request, body);
        lock (_gate)
        {
            _requests.Add(new RecordedZoomRequest(arrivedAt, request.Method, request.Path.Value ?? "/", request.QueryString.Value ?? string.Empty, headerCopy, body, SimulatorFaults.Recorded(fault, status)));
        }

        if (fault != SimulatedFault.None)
        {
            // The work is done; the client is told otherwise.
            await Faults.RespondAsync(context, fault);
            return;
        }

        context.Response.StatusCode = (int)status;
        foreach (var (name, value) in headers)
        {
            context.Response.Headers[name] = value;
        }

        if (response is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(response.ToJsonString(), context.RequestAborted);
        }
    }

    /// <summary>Size of each recording file made from now on (a small default keeps tests fast; the benchmark sets 200 MB).</summary>
    public long RecordingBytes { get; set; } = 256 * 1024;

    /// <summary>The next <paramref name="count"/> file downloads break off after <paramref name="bytes"/> bytes, as a dropped connection does.</summary>
    public void FailDownloadsAfter(long bytes, int count)
    {
        lock (_gate)
        {
            _failDownloadsAfterBytes = bytes;
            _failDownloads = count;
        }
    }

    /// <summary>
    /// <c>GET /rec/download/{meetingId}/{fileId}</c> with the download token in the Authorization header only: a token
    /// in the query (or none) is refused with 401 and code 124, as Zoom has done since 2023-02-14 (contract fact
    /// <c>download-token-header-only</c>). A valid token is answered with a redirect to a signed file link on another
    /// host (<c>localhost</c> rather than 127.0.0.1), which takes no Authorization header. Recorded like API calls,
    /// the token never.
    /// </summary>
    private async Task ServeDownloadAsync(HttpContext context)
    {
        var segments = (context.Request.Path.Value ?? string.Empty).Split('/', StringSplitOptions.RemoveEmptyEntries);
        var authorization = context.Request.Headers.Authorization.ToString();
        var token = authorization.StartsWith("Bearer ", StringComparison.Ordinal) ? authorization["Bearer ".Length..] : null;
        var tokenInQuery = context.Request.Query.ContainsKey("access_token");
        string? ticket = null;
        lock (_gate)
        {
            if (!tokenInQuery && token is not null
                && segments is [_, _, var id, var fileId]
                && long.TryParse(id, CultureInfo.InvariantCulture, out var meetingId)
                && _recordings.TryGetValue(meetingId, out var recording) && recording.FileId == fileId
                && _downloadTokens.TryGetValue(token, out var issued) && issued.MeetingId == meetingId && !issued.Expired)
            {
                ticket = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
                _fileTickets[ticket] = meetingId;
            }

            _requests.Add(new RecordedZoomRequest(_time.GetUtcNow(), context.Request.Method, context.Request.Path.Value ?? "/", RedactedQuery(context.Request),
                DownloadHeaders(context.Request), string.Empty, ticket is null ? StatusCodes.Status401Unauthorized : StatusCodes.Status302Found));
        }

        if (ticket is null)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(new JsonObject { ["code"] = 124, ["message"] = "Invalid access token." }.ToJsonString(), context.RequestAborted);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status302Found;
        context.Response.Headers.Location = $"http://localhost:{BaseAddress.Port}/rec/files/{ticket}";
    }

    /// <summary>The signed file link a download redirects to: the bytes, streamed from the generator, never buffered.</summary>
    private async Task ServeFileAsync(HttpContext context)
    {
        var segments = (context.Request.Path.Value ?? string.Empty).Split('/', StringSplitOptions.RemoveEmptyEntries);
        SimulatedRecording? recording = null;
        long? stopAfter = null;
        lock (_gate)
        {
            if (segments is [_, _, var ticket] && _fileTickets.TryGetValue(ticket, out var meetingId))
            {
                recording = _recordings.GetValueOrDefault(meetingId);
                if (recording is not null && _failDownloads > 0)
                {
                    _failDownloads--;
                    stopAfter = _failDownloadsAfterBytes;
                }
            }

            _requests.Add(new RecordedZoomRequest(_time.GetUtcNow(), context.Request.Method, "/rec/files/{ticket}", string.Empty,
                DownloadHeaders(context.Request), string.Empty, recording is null ? StatusCodes.Status404NotFound : StatusCodes.Status200OK));
        }

        if (recording is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.ContentType = "video/mp4";
        context.Response.ContentLength = recording.Size;
        await GeneratedRecording.WriteAsync(recording.Seed, recording.Size, context.Response.Body, stopAfter, context.RequestAborted);
        if (stopAfter is not null)
        {
            await context.Response.Body.FlushAsync(context.RequestAborted);
            context.Abort();
        }
    }

    /// <summary>Header names as sent, with the Authorization value reduced to its scheme.</summary>
    private static Dictionary<string, string> DownloadHeaders(HttpRequest request)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in request.Headers)
        {
            headers[name] = string.Equals(name, "Authorization", StringComparison.OrdinalIgnoreCase) ? value.ToString().Split(' ')[0] : value.ToString();
        }

        return headers;
    }

    /// <summary>The query with any access_token value replaced, so the record shows that one was sent, never what.</summary>
    private static string RedactedQuery(HttpRequest request) =>
        request.QueryString.HasValue
            ? "?" + string.Join('&', request.Query.Select(q => q.Key + "=" + (q.Key == "access_token" ? "[redacted]" : q.Value.ToString())))
            : string.Empty;

    private (HttpStatusCode Status, JsonNode? Body, List<(string, string)> Headers) Dispatch(HttpRequest request, string body)
    {
        var path = request.Path.Value ?? "/";
        lock (_gate)
        {
            if (path == "/oauth/token" && request.Method == "POST")
            {
                return IssueToken(request, body);
            }

            if (!path.StartsWith("/v2/", StringComparison.Ordinal))
            {
                return Error(HttpStatusCode.NotFound, 404, "Not found.");
            }

            var authorization = request.Headers.Authorization.ToString();
            if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || !_tokens.Contains(authorization["Bearer ".Length..]))
            {
                return Error(HttpStatusCode.Unauthorized, 124, "Invalid access token.");
            }

            if (_failNext > 0)
            {
                _failNext--;
                return Error(_failStatus, (int)_failStatus, "Injected failure.");
            }

            if (_throttleNext > 0 || OverPerSecondBudget())
            {
                _throttleNext = Math.Max(0, _throttleNext - 1);
                _throttledCount++;
                var throttled = Error(HttpStatusCode.TooManyRequests, 429, "You have reached the maximum per-second rate limit for this API. Try again later.");
                throttled.Headers.Add(("X-RateLimit-Category", "Medium"));
                throttled.Headers.Add(("X-RateLimit-Type", "QPS"));
                // Zoom sends Retry-After on some 429s and not on others; clients must cope with both.
                if (_throttledCount % 2 == 1)
                {
                    throttled.Headers.Add(("Retry-After", "1"));
                }

                return throttled;
            }

            var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            return (request.Method, segments) switch
            {
                ("POST", ["v2", "users", var host, "meetings"]) => CreateMeeting(host, body),
                ("GET", ["v2", "users", var host, "meetings"]) => ListMeetings(host, request.Query),
                ("GET", ["v2", "meetings", var id]) => WithMeeting(id, m => (HttpStatusCode.OK, Describe(m), [])),
                ("GET", ["v2", "meetings", var id, "recordings"]) => WithRecording(id, r => FreshDownload(r, request.Query)),
                ("DELETE", ["v2", "meetings", var id, "recordings"]) => WithRecording(id, r =>
                {
                    _recordings.Remove(r.MeetingId);
                    return (HttpStatusCode.NoContent, null, []);
                }),
                ("PATCH", ["v2", "meetings", var id]) => WithMeeting(id, m => UpdateMeeting(m, body)),
                ("DELETE", ["v2", "meetings", var id]) => WithMeeting(id, m =>
                {
                    _meetings.Remove(m.Id);
                    return (HttpStatusCode.NoContent, null, []);
                }),
                _ => Error(HttpStatusCode.NotFound, 404, "Not found."),
            };
        }
    }

    private (HttpStatusCode, JsonNode?, List<(string, string)>) IssueToken(HttpRequest request, string body)
    {
        var form = body.Length > 0 ? QueryHelpersParse(body) : [];
        string? Value(string key) => request.Query.TryGetValue(key, out var q) ? q.ToString() : form.GetValueOrDefault(key);
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{ClientSecret}"));
        if (request.Headers.Authorization.ToString() != expected)
        {
            return (HttpStatusCode.Unauthorized, new JsonObject { ["reason"] = "Invalid client_id or client_secret", ["error"] = "invalid_client" }, []);
        }

        if (Value("grant_type") != "account_credentials" || Value("account_id") != AccountId)
        {
            return (HttpStatusCode.BadRequest, new JsonObject { ["reason"] = "unsupported grant type or account", ["error"] = "invalid_request" }, []);
        }

        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        _tokens.Add(token);
        Issued.Add("zoom-access-token", token);
        return (HttpStatusCode.OK, new JsonObject
        {
            ["access_token"] = token,
            ["token_type"] = "bearer",
            ["expires_in"] = TokenLifetimeSeconds,
            ["scope"] = string.Join(' ', GrantedScopes),
            ["api_url"] = BaseAddress.ToString().TrimEnd('/'),
        }, []);
    }

    private (HttpStatusCode, JsonNode?, List<(string, string)>) CreateMeeting(string hostId, string body)
    {
        if (ParseObject(body) is not { } payload)
        {
            return Error(HttpStatusCode.BadRequest, 300, "Request Body should be a valid JSON object.");
        }

        if (DailyLimitReached(hostId) is { } refused)
        {
            return refused;
        }

        var meeting = new SimulatedMeeting(_nextMeetingId++, hostId, payload, UnexpectedFields(payload));
        _meetings[meeting.Id] = meeting;
        if (_commitThenFailCreates > 0)
        {
            _commitThenFailCreates--;
            return Error(HttpStatusCode.InternalServerError, 500, "Injected failure after commit.");
        }

        return (HttpStatusCode.Created, Describe(meeting), [("Location", $"{BaseAddress}v2/meetings/{meeting.Id}")]);
    }

    private (HttpStatusCode, JsonNode?, List<(string, string)>) UpdateMeeting(SimulatedMeeting meeting, string body)
    {
        if (ParseObject(body) is not { } patch)
        {
            return Error(HttpStatusCode.BadRequest, 300, "Request Body should be a valid JSON object.");
        }

        if (DailyLimitReached(meeting.HostId) is { } refused)
        {
            return refused;
        }

        var merged = (JsonObject)meeting.Body.DeepClone();
        foreach (var (key, value) in patch)
        {
            merged[key] = value?.DeepClone();
        }

        _meetings[meeting.Id] = meeting with { Body = merged, UnexpectedFields = [.. meeting.UnexpectedFields, .. UnexpectedFields(patch)] };
        return (HttpStatusCode.NoContent, null, []);
    }

    private (HttpStatusCode, JsonNode?, List<(string, string)>) ListMeetings(string hostId, IQueryCollection query)
    {
        var pageSize = int.TryParse(query["page_size"], CultureInfo.InvariantCulture, out var size) ? Math.Clamp(size, 1, 300) : 30;
        var start = int.TryParse(query["next_page_token"], CultureInfo.InvariantCulture, out var offset) ? offset : 0;
        var now = _time.GetUtcNow();
        var upcoming = _meetings.Values
            .Where(m => m.HostId == hostId && EndsAt(m) > now)
            .OrderBy(m => m.Id)
            .ToList();
        var page = upcoming.Skip(start).Take(pageSize).Select(m => (JsonNode)Describe(m)).ToArray();
        var next = start + pageSize < upcoming.Count ? (start + pageSize).ToString(CultureInfo.InvariantCulture) : string.Empty;
        return (HttpStatusCode.OK, new JsonObject
        {
            ["page_size"] = pageSize,
            ["total_records"] = upcoming.Count,
            ["next_page_token"] = next,
            ["meetings"] = new JsonArray(page),
        }, []);
    }

    private (HttpStatusCode, JsonNode?, List<(string, string)>) WithMeeting(string id, Func<SimulatedMeeting, (HttpStatusCode, JsonNode?, List<(string, string)>)> action) =>
        long.TryParse(id, CultureInfo.InvariantCulture, out var meetingId) && _meetings.TryGetValue(meetingId, out var meeting)
            ? action(meeting)
            : Error(HttpStatusCode.NotFound, 3001, $"Meeting does not exist: {id}.");

    /// <summary>A recording by meeting id or instance UUID (ASP.NET Core has already decoded one level of escaping).</summary>
    private (HttpStatusCode, JsonNode?, List<(string, string)>) WithRecording(string id, Func<SimulatedRecording, (HttpStatusCode, JsonNode?, List<(string, string)>)> action)
    {
        var uuid = Uri.UnescapeDataString(id);
        var recording = _recordings.Values.FirstOrDefault(r => r.Uuid == uuid || r.MeetingId.ToString(CultureInfo.InvariantCulture) == id);
        return recording is null ? Error(HttpStatusCode.NotFound, 3301, "This recording does not exist.") : action(recording);
    }

    private (HttpStatusCode, JsonNode?, List<(string, string)>) FreshDownload(SimulatedRecording recording, IQueryCollection query)
    {
        var files = new JsonArray(new JsonObject
        {
            ["id"] = recording.FileId,
            ["meeting_id"] = recording.Uuid,
            ["file_type"] = "MP4",
            ["recording_type"] = "shared_screen_with_speaker_view",
            ["download_url"] = DownloadUrl(recording),
            ["status"] = "completed",
        });
        var answer = new JsonObject { ["uuid"] = recording.Uuid, ["id"] = recording.MeetingId, ["recording_files"] = files };
        if (query["include_fields"].ToString().Split(',').Contains("download_access_token"))
        {
            var token = "dat-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            _downloadTokens[token] = (recording.MeetingId, false);
            Issued.Add("zoom-download-token", token);
            answer["download_access_token"] = token;
        }

        return (HttpStatusCode.OK, answer, []);
    }

    private (HttpStatusCode, JsonNode?, List<(string, string)>)? DailyLimitReached(string hostId)
    {
        var key = (hostId, DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime));
        var used = _dailyWrites.GetValueOrDefault(key);
        if (used >= DailyLimitPerHost)
        {
            var refused = Error(HttpStatusCode.TooManyRequests, 429,
                $"You have exceeded the daily rate limit ({DailyLimitPerHost}) of Meeting Create/Update API requests permitted for this particular user. You may resume these requests at GMT 00:00:00.");
            if (DailyLimitSendsRateLimitType)
            {
                refused.Headers.Add(("X-RateLimit-Type", "Daily-limit"));
            }

            return refused;
        }

        _dailyWrites[key] = used + 1;
        return null;
    }

    private bool OverPerSecondBudget()
    {
        var second = _time.GetUtcNow().ToUnixTimeSeconds();
        if (second != _secondWindow)
        {
            _secondWindow = second;
            _secondCount = 0;
        }

        return ++_secondCount > RequestsPerSecond;
    }

    private JsonObject Describe(SimulatedMeeting meeting)
    {
        var described = (JsonObject)meeting.Body.DeepClone();
        described["id"] = meeting.Id;
        described["uuid"] = $"uuid-{meeting.Id}==";
        described["host_id"] = meeting.HostId;
        var joinUrl = $"{BaseAddress}j/{meeting.Id}?pwd={Convert.ToHexStringLower(HMACSHA256.HashData(_joinPasswordKey, BitConverter.GetBytes(meeting.Id)))[..20]}";
        Issued.Add("zoom-join-url", joinUrl);
        described["join_url"] = joinUrl;
        // Like Zoom's, a start link carries a fresh host token (ZAK) on every read and expires; a secret, never logged.
        var startUrl = $"{BaseAddress}s/{meeting.Id}?zak=zak-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}";
        Issued.Add("zoom-start-url", startUrl);
        described["start_url"] = startUrl;
        return described;
    }

    private static DateTimeOffset StartsAt(SimulatedMeeting meeting) =>
        DateTimeOffset.TryParse(meeting.Body["start_time"]?.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var s) ? s : DateTimeOffset.MaxValue;

    private static DateTimeOffset EndsAt(SimulatedMeeting meeting)
    {
        var start = DateTimeOffset.TryParse(meeting.Body["start_time"]?.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var s) ? s : DateTimeOffset.MaxValue;
        var minutes = meeting.Body["duration"] is JsonValue d && d.TryGetValue<int>(out var m) ? m : 60;
        return start == DateTimeOffset.MaxValue ? start : start.AddMinutes(minutes);
    }

    private static List<string> UnexpectedFields(JsonObject payload)
    {
        var found = new List<string>();
        foreach (var (key, value) in payload)
        {
            if (!ExpectedMeetingFields.Contains(key))
            {
                found.Add(key);
            }
            else if (value is JsonObject nested)
            {
                found.AddRange(nested.Select(n => $"{key}.{n.Key}").Where(n => !ExpectedMeetingFields.Contains(n)));
            }
        }

        return found;
    }

    private static JsonObject? ParseObject(string body)
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

    private static Dictionary<string, string> QueryHelpersParse(string form) =>
        form.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => p.Length > 1 ? Uri.UnescapeDataString(p[1].Replace('+', ' ')) : string.Empty);

    private static (HttpStatusCode Status, JsonNode? Body, List<(string, string)> Headers) Error(HttpStatusCode status, int code, string message) =>
        (status, new JsonObject { ["code"] = code, ["message"] = message }, []);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
