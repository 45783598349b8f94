using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Sandbox.Google;

/// <summary>One request the simulator received, Authorization header left out.</summary>
public sealed record RecordedGoogleRequest(DateTimeOffset ReceivedAtUtc, string Method, string Path, string Query, string Body, int Status, string? Account)
{
    public bool IsCalendarApi => Path.StartsWith("/calendar/v3/", StringComparison.Ordinal);
    public bool IsEventCall => IsCalendarApi && Path.Contains("/events", StringComparison.Ordinal);
    public bool IsToken => Path == "/token";
}

/// <summary>An event as the simulator holds it.</summary>
public sealed record SimulatedEvent(string CalendarId, string Id, JsonObject Body, bool Cancelled, long Sequence);

/// <summary>A calendar as the simulator holds it, with the account that owns it.</summary>
public sealed record SimulatedCalendar(string Id, string Account, JsonObject Body);

/// <summary>A watch channel as the simulator holds it (events.watch on one calendar).</summary>
public sealed record SimulatedChannel(string Id, string ResourceId, string CalendarId, string Account, Uri Address, string? Token, DateTimeOffset ExpiresAtUtc);

/// <summary>One push notification the simulator sent (or, under the fault plan, dropped); Status 0 when there was no answer.</summary>
public sealed record SentGoogleNotification(DateTimeOffset SentAtUtc, string ChannelId, string State, long MessageNumber, int Status, NotificationFault Fault);

/// <summary>How Google answers an insert that re-uses the id of a deleted event (its material shows both; see google.contract.json).</summary>
public enum DeletedIdReuse
{
    /// <summary>409 duplicate: "The requested identifier already exists."</summary>
    Conflict,
    /// <summary>403 forbidden.</summary>
    Forbidden,
}

/// <summary>How Google answers an update of a deleted event (its material shows both; see google.contract.json).</summary>
public enum DeletedEventUpdate
{
    /// <summary>The organizer's cancelled event keeps its details and is restored (undeleted) by a write with status confirmed.</summary>
    Restore,
    /// <summary>403 forbidden: the id stays unusable.</summary>
    Forbidden,
}

/// <summary>
/// A loopback stand-in for Google: the OAuth 2.0 authorization endpoint with a consent page (approve / deny), the
/// token endpoint (code + PKCE verifier, refresh, invalid_grant once revoked), the revoke endpoint and the Calendar
/// API calls the pipeline makes, enforcing the event-id rule, 409 (or 403) on a re-used id, PATCH semantics (omitted
/// fields kept, arrays replaced), events.update replacing the whole event, syncToken / 410 with an incremental
/// listing held to the full listing's parameters (400 otherwise), 404 on every call to a calendar deleted by hand,
/// and a per-user budget of requests per minute answered 403 rateLimitExceeded. Every request is recorded.
/// events.watch and channels.stop keep channels; every change to an event of a watched calendar (ours or by hand)
/// POSTs a notification to the channel's address as Google documents it: headers only, no body (<c>sync</c> when the
/// channel opens, then <c>exists</c>; <c>not_exists</c> when the calendar goes), and the fault plan may drop or repeat one.
/// Each behaviour is cited in Contracts/google.contract.json.
/// </summary>
public sealed partial class GoogleSimulator : IAsyncDisposable
{
    public const string ClientId = "sandbox-google-client.apps.googleusercontent.com";
    // Loopback-only sandbox credentials, not secrets.
    public const string ClientSecret = "sandbox-google-secret";
    public const string CalendarScope = "https://www.googleapis.com/auth/calendar.app.created";
    public const int AccessTokenLifetimeSeconds = 3599;

    private readonly WebApplication _app;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly List<RecordedGoogleRequest> _requests = [];
    private readonly Dictionary<string, PendingCode> _codes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _refreshTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Account, string RefreshToken)> _accessTokens = new(StringComparer.Ordinal);
    private readonly HashSet<string> _revokedRefreshTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _grantedScopes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SimulatedCalendar> _calendars = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Calendar, string Id), SimulatedEvent> _events = [];
    private readonly Dictionary<(string Account, long Minute), int> _perMinute = [];
    private readonly Dictionary<string, string> _syncTokenFilters = new(StringComparer.Ordinal);
    private readonly Queue<HttpStatusCode> _throttleNext = new();
    private readonly Dictionary<string, SimulatedChannel> _channels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _messageNumbers = new(StringComparer.Ordinal);
    private readonly System.Threading.Channels.Channel<(SimulatedChannel Channel, string State, long Number, NotificationFault Fault)> _outbox =
        System.Threading.Channels.Channel.CreateUnbounded<(SimulatedChannel, string, long, NotificationFault)>(new() { SingleReader = true });
    private readonly List<SentGoogleNotification> _notifications = [];
    private readonly HttpClient _notifier = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly CancellationTokenSource _stopping = new();
    private Task _delivery = Task.CompletedTask;
    private int _pendingNotifications;
    private long _sequence;
    private long _syncTokenFloor;
    private int _accounts;

    private GoogleSimulator(WebApplication app, TimeProvider time)
    {
        _app = app;
        _time = time;
    }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Every code and token handed out, and every OAuth state and PKCE verifier it was sent, for the log scan.</summary>
    public IssuedValues Issued { get; } = new();

    /// <summary>The only redirect URI registered for the client; anything else is refused, as Google does.</summary>
    public Uri? RegisteredRedirectUri { get; set; }

    /// <summary>Calendar API requests per user per minute before 403 rateLimitExceeded (Google: 600).</summary>
    public int RequestsPerMinutePerUser { get; set; } = 600;

    /// <summary>How an insert re-using a deleted event's id is answered (default 409, as most reports show).</summary>
    public DeletedIdReuse DeletedIdReuse { get; set; } = DeletedIdReuse.Conflict;

    /// <summary>How a write to a deleted event is answered (default: restored, as the Event resource documents).</summary>
    public DeletedEventUpdate DeletedEventUpdate { get; set; } = DeletedEventUpdate.Restore;

    /// <summary>The longest channel granted (an assumption: the guide leaves it to each API; see google.contract.json).</summary>
    public TimeSpan MaxChannelLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Accepts an http channel address on a loopback host (the Sandbox has no TLS); any other http address is refused as Google refuses it.</summary>
    public bool AllowLoopbackHttpAddresses { get; set; } = true;

    /// <summary>Open channels.</summary>
    public IReadOnlyList<SimulatedChannel> Channels
    {
        get
        {
            lock (_gate)
            {
                return [.. _channels.Values];
            }
        }
    }

    /// <summary>Notifications sent or dropped so far, in sending order.</summary>
    public IReadOnlyList<SentGoogleNotification> Notifications
    {
        get
        {
            lock (_gate)
            {
                return [.. _notifications];
            }
        }
    }

    /// <summary>Waits until every notification queued so far has been answered (or dropped).</summary>
    public async Task WhenNotificationsSentAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref _pendingNotifications) > 0)
        {
            if (waited.Elapsed > (timeout ?? TimeSpan.FromSeconds(30)))
            {
                throw new SandboxException("Google simulator: notifications still unsent after the timeout.");
            }

            await Task.Delay(10, cancellationToken);
        }
    }

    /// <summary>When set, the token endpoint reports this scope as granted instead of the one asked for.</summary>
    public string? GrantedScopeOverride { get; set; }

    public static async Task<GoogleSimulator> StartAsync(TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        var app = LoopbackHost.Create();
        var simulator = new GoogleSimulator(app, time ?? TimeProvider.System);
        simulator.BaseAddress = await LoopbackHost.StartAsync(app, "google", simulator.HandleAsync, cancellationToken, tokenScopes: simulator.ScopesOf);
        simulator._delivery = Task.Run(simulator.DeliverAsync, CancellationToken.None);
        return simulator;
    }

    /// <summary>The settings that point the pipeline's Google clients at this simulator.</summary>
    public IReadOnlyDictionary<string, string?> Settings() => new Dictionary<string, string?>
    {
        ["GoogleCalendar:ClientId"] = ClientId,
        ["GoogleCalendar:ClientSecret"] = ClientSecret,
        ["GoogleCalendar:AuthorizationEndpoint"] = $"{BaseAddress}o/oauth2/v2/auth",
        ["GoogleCalendar:TokenEndpoint"] = $"{BaseAddress}token",
        ["GoogleCalendar:RevokeEndpoint"] = $"{BaseAddress}revoke",
        ["GoogleCalendar:ApiBaseAddress"] = BaseAddress.ToString(),
    };

    public IReadOnlyList<RecordedGoogleRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    public IReadOnlyList<SimulatedCalendar> Calendars
    {
        get
        {
            lock (_gate)
            {
                return [.. _calendars.Values];
            }
        }
    }

    /// <summary>Live and cancelled events of a calendar.</summary>
    public IReadOnlyList<SimulatedEvent> EventsOf(string calendarId)
    {
        lock (_gate)
        {
            return [.. _events.Values.Where(e => e.CalendarId == calendarId).OrderBy(e => e.Sequence)];
        }
    }

    public void ClearRequests()
    {
        lock (_gate)
        {
            _requests.Clear();
        }
    }

    /// <summary>The next Calendar API requests are refused with these statuses (403 rateLimitExceeded or 429), one each.</summary>
    public void ThrottleNext(params HttpStatusCode[] statuses)
    {
        lock (_gate)
        {
            foreach (var status in statuses)
            {
                _throttleNext.Enqueue(status);
            }
        }
    }

    /// <summary>
    /// The seeded fault plan (off until enabled): the Calendar API, the token and the revoke endpoints are eligible;
    /// the consent page the lecturer's browser sees is not.
    /// </summary>
    public SimulatorFaults Faults { get; } = new((_, path) => path.StartsWith("/calendar/v3/", StringComparison.Ordinal) || path is "/token" or "/revoke");

    /// <summary>Revokes an account's grant behind the pipeline's back, as the user would in their Google account settings.</summary>
    public void RevokeAllGrants()
    {
        lock (_gate)
        {
            foreach (var token in _refreshTokens.Keys)
            {
                _revokedRefreshTokens.Add(token);
            }
        }
    }

    /// <summary>Every sync token issued so far answers 410 from now on.</summary>
    public void ExpireSyncTokens()
    {
        lock (_gate)
        {
            _syncTokenFloor = _sequence + 1;
        }
    }

    /// <summary>Changes an event as the lecturer would in Google Calendar.</summary>
    public void EditByHand(string calendarId, string eventId, Action<JsonObject> edit)
    {
        lock (_gate)
        {
            var current = _events[(calendarId, eventId)];
            var body = (JsonObject)current.Body.DeepClone();
            edit(body);
            _events[(calendarId, eventId)] = current with { Body = body, Sequence = ++_sequence };
            Notify(calendarId, "exists");
        }
    }

    /// <summary>Deletes an event as the lecturer would in Google Calendar (it stays as a cancelled entry for sync).</summary>
    public void DeleteByHand(string calendarId, string eventId)
    {
        lock (_gate)
        {
            var current = _events[(calendarId, eventId)];
            _events[(calendarId, eventId)] = current with { Cancelled = true, Sequence = ++_sequence };
            Notify(calendarId, "exists");
        }
    }

    /// <summary>Deletes a calendar as the lecturer would in Google Calendar's settings: every later call naming it answers 404.</summary>
    public void DeleteCalendarByHand(string calendarId)
    {
        lock (_gate)
        {
            _ = DeleteCalendar(_calendars[calendarId]);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var arrivedAt = _time.GetUtcNow();
        var path = request.Path.Value ?? "/";
        var fault = Faults.Next(request.Method, path);
        var errorBody = path.StartsWith("/calendar/v3/", StringComparison.Ordinal)
            ? FaultError(SimulatorFaults.StatusOf(fault)).Json
            : new JsonObject { ["error"] = "internal_failure", ["error_description"] = "Backend Error" };
        if (SimulatorFaults.FailsBeforeWork(fault))
        {
            lock (_gate)
            {
                _requests.Add(new RecordedGoogleRequest(arrivedAt, request.Method, path, request.QueryString.Value ?? string.Empty, body, SimulatorFaults.StatusOf(fault), null));
            }

            await Faults.RespondAsync(context, fault, body: errorBody);
            return;
        }

        Reply reply;
        string? account;
        lock (_gate)
        {
            (reply, account) = Dispatch(request, body);
            _requests.Add(new RecordedGoogleRequest(arrivedAt, request.Method, path, request.QueryString.Value ?? string.Empty, body, SimulatorFaults.Recorded(fault, reply.Status), account));
        }

        if (fault != SimulatedFault.None)
        {
            // The work is done; the client is told otherwise.
            await Faults.RespondAsync(context, fault, body: errorBody);
            return;
        }

        context.Response.StatusCode = (int)reply.Status;
        context.Response.Headers.CacheControl = "no-store";
        if (reply.Location is not null)
        {
            context.Response.Headers.Location = reply.Location;
        }

        if (reply.Html is not null)
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync(reply.Html, context.RequestAborted);
        }
        else if (reply.Json is not null)
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(reply.Json.ToJsonString(), context.RequestAborted);
        }
    }

    private (Reply Reply, string? Account) Dispatch(HttpRequest request, string body)
    {
        var path = request.Path.Value ?? "/";
        switch (request.Method, path)
        {
            case ("GET", "/o/oauth2/v2/auth"):
                return (ConsentPage(request.Query), null);
            case ("POST", "/o/oauth2/v2/auth/decision"):
                return (Decide(Form(body)), null);
            case ("POST", "/token"):
                return (Token(Form(body)), null);
            case ("POST" or "GET", "/revoke"):
                return (Revoke(request.Query.TryGetValue("token", out var q) ? q.ToString() : Form(body).GetValueOrDefault("token")), null);
        }

        if (!path.StartsWith("/calendar/v3/", StringComparison.Ordinal))
        {
            return (ApiError(HttpStatusCode.NotFound, "notFound", "Not Found"), null);
        }

        var bearer = request.Headers.Authorization.ToString();
        if (!bearer.StartsWith("Bearer ", StringComparison.Ordinal) || !_accessTokens.TryGetValue(bearer["Bearer ".Length..], out var grant)
            || _revokedRefreshTokens.Contains(grant.RefreshToken))
        {
            return (ApiError(HttpStatusCode.Unauthorized, "authError", "Invalid Credentials"), null);
        }

        if (_throttleNext.TryDequeue(out var throttle))
        {
            return (throttle == HttpStatusCode.TooManyRequests
                ? ApiError(HttpStatusCode.TooManyRequests, "rateLimitExceeded", "Rate Limit Exceeded")
                : ApiError(HttpStatusCode.Forbidden, "rateLimitExceeded", "Rate Limit Exceeded"), grant.Account);
        }

        var minute = _time.GetUtcNow().ToUnixTimeSeconds() / 60;
        var used = _perMinute.GetValueOrDefault((grant.Account, minute)) + 1;
        _perMinute[(grant.Account, minute)] = used;
        if (used > RequestsPerMinutePerUser)
        {
            return (ApiError(HttpStatusCode.Forbidden, "rateLimitExceeded", "Rate Limit Exceeded"), grant.Account);
        }

        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        return ((request.Method, segments) switch
        {
            ("POST", ["calendar", "v3", "calendars"]) => InsertCalendar(grant.Account, body),
            ("DELETE", ["calendar", "v3", "calendars", var cal]) => WithCalendar(grant.Account, cal, c => DeleteCalendar(c)),
            ("POST", ["calendar", "v3", "calendars", var cal, "events"]) => WithCalendar(grant.Account, cal, c => InsertEvent(c, body)),
            ("GET", ["calendar", "v3", "calendars", var cal, "events"]) => WithCalendar(grant.Account, cal, c => ListEvents(c, request.Query)),
            ("GET", ["calendar", "v3", "calendars", var cal, "events", var id]) => WithEvent(grant.Account, cal, id, e => (HttpStatusCode.OK, Describe(e))),
            ("PATCH", ["calendar", "v3", "calendars", var cal, "events", var id]) => WithEvent(grant.Account, cal, id, e => PatchEvent(e, body)),
            ("PUT", ["calendar", "v3", "calendars", var cal, "events", var id]) => WithEvent(grant.Account, cal, id, e => UpdateEvent(e, body)),
            ("DELETE", ["calendar", "v3", "calendars", var cal, "events", var id]) => WithEvent(grant.Account, cal, id, DeleteEvent),
            ("POST", ["calendar", "v3", "calendars", var cal, "events", "watch"]) => WithCalendar(grant.Account, cal, c => Watch(c, body)),
            ("POST", ["calendar", "v3", "channels", "stop"]) => StopChannel(grant.Account, body),
            _ => ApiError(HttpStatusCode.NotFound, "notFound", "Not Found"),
        }, grant.Account);
    }

    private Reply ConsentPage(IQueryCollection query)
    {
        string Q(string name) => query[name].ToString();
        if (Q("client_id") != ClientId)
        {
            return HtmlError("Error 401: invalid_client", "The OAuth client was not found.");
        }

        if (RegisteredRedirectUri is null || Q("redirect_uri") != RegisteredRedirectUri.ToString())
        {
            return HtmlError("Error 400: redirect_uri_mismatch", "The redirect URI in the request does not match the ones authorized for the OAuth client.");
        }

        if (Q("response_type") != "code" || Q("code_challenge_method") != "S256" || Q("code_challenge").Length < 43 || Q("scope").Length == 0)
        {
            return HtmlError("Error 400: invalid_request", "Required parameter is missing or invalid: response_type, scope, code_challenge or code_challenge_method.");
        }

        string Hidden(string name) => $"<input type=\"hidden\" name=\"{name}\" value=\"{WebUtility.HtmlEncode(Q(name))}\">";
        var fields = string.Concat(new[] { "redirect_uri", "state", "scope", "code_challenge", "access_type" }.Select(Hidden));
        return new Reply(HttpStatusCode.OK, Html: $"""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in - Google Accounts (simulated)</title></head>
            <body><main>
            <h1 id="consent-title">Cafetalk wants access to your Google Account</h1>
            <p id="consent-scope">Make secondary Google calendars, and see, create, change and delete events on them ({WebUtility.HtmlEncode(Q("scope"))})</p>
            <form method="post" action="/o/oauth2/v2/auth/decision">{fields}
            <button type="submit" name="decision" value="deny" id="deny">Cancel</button>
            <button type="submit" name="decision" value="approve" id="approve">Allow</button>
            </form></main></body></html>
            """);
    }

    private Reply Decide(Dictionary<string, string> form)
    {
        var redirect = form.GetValueOrDefault("redirect_uri") ?? string.Empty;
        if (RegisteredRedirectUri is null || redirect != RegisteredRedirectUri.ToString())
        {
            return HtmlError("Error 400: redirect_uri_mismatch", "The redirect URI does not match.");
        }

        Issued.Add("oauth-state", form.GetValueOrDefault("state"));
        var state = Uri.EscapeDataString(form.GetValueOrDefault("state") ?? string.Empty);
        if (form.GetValueOrDefault("decision") != "approve")
        {
            return new Reply(HttpStatusCode.Found, Location: $"{redirect}?error=access_denied&state={state}");
        }

        var code = "4/" + Token(24);
        Issued.Add("google-auth-code", code);
        var account = $"account-{Interlocked.Increment(ref _accounts)}";
        _codes[code] = new PendingCode(account, redirect, form.GetValueOrDefault("code_challenge") ?? string.Empty, form.GetValueOrDefault("scope") ?? string.Empty,
            form.GetValueOrDefault("access_type") == "offline", _time.GetUtcNow().AddMinutes(10));
        return new Reply(HttpStatusCode.Found, Location: $"{redirect}?state={state}&code={Uri.EscapeDataString(code)}&scope={Uri.EscapeDataString(form.GetValueOrDefault("scope") ?? string.Empty)}");
    }

    private Reply Token(Dictionary<string, string> form)
    {
        if (form.GetValueOrDefault("client_id") != ClientId || form.GetValueOrDefault("client_secret") != ClientSecret)
        {
            return OAuthError(HttpStatusCode.Unauthorized, "invalid_client", "Unauthorized");
        }

        switch (form.GetValueOrDefault("grant_type"))
        {
            case "authorization_code":
                var code = form.GetValueOrDefault("code") ?? string.Empty;
                if (!_codes.Remove(code, out var pending) || pending.ExpiresAtUtc < _time.GetUtcNow())
                {
                    return OAuthError(HttpStatusCode.BadRequest, "invalid_grant", "Malformed auth code.");
                }

                if (form.GetValueOrDefault("redirect_uri") != pending.RedirectUri)
                {
                    return OAuthError(HttpStatusCode.BadRequest, "redirect_uri_mismatch", "Bad Request");
                }

                var verifier = form.GetValueOrDefault("code_verifier") ?? string.Empty;
                Issued.Add("pkce-verifier", verifier);
                var challenge = Base64UrlTextEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
                if (verifier.Length < 43 || challenge != pending.CodeChallenge)
                {
                    return OAuthError(HttpStatusCode.BadRequest, "invalid_grant", "Invalid code verifier.");
                }

                var response = new JsonObject
                {
                    ["access_token"] = NewAccessToken(pending.Account, GrantedScopeOverride ?? pending.Scope, out var refresh),
                    ["expires_in"] = AccessTokenLifetimeSeconds,
                    ["scope"] = GrantedScopeOverride ?? pending.Scope,
                    ["token_type"] = "Bearer",
                };
                if (pending.Offline)
                {
                    response["refresh_token"] = refresh;
                }

                return new Reply(HttpStatusCode.OK, response);
            case "refresh_token":
                var refreshToken = form.GetValueOrDefault("refresh_token") ?? string.Empty;
                if (!_refreshTokens.TryGetValue(refreshToken, out var account) || _revokedRefreshTokens.Contains(refreshToken))
                {
                    return OAuthError(HttpStatusCode.BadRequest, "invalid_grant", "Token has been expired or revoked.");
                }

                var access = Token(32);
                Issued.Add("google-access-token", access);
                _accessTokens[access] = (account, refreshToken);
                var scope = _grantedScopes.GetValueOrDefault(refreshToken, CalendarScope);
                _grantedScopes[access] = scope;
                return new Reply(HttpStatusCode.OK, new JsonObject
                {
                    ["access_token"] = access,
                    ["expires_in"] = AccessTokenLifetimeSeconds,
                    ["scope"] = scope,
                    ["token_type"] = "Bearer",
                });
            default:
                return OAuthError(HttpStatusCode.BadRequest, "unsupported_grant_type", "Invalid grant_type.");
        }
    }

    private string NewAccessToken(string account, string scope, out string refreshToken)
    {
        refreshToken = "1//" + Token(32);
        Issued.Add("google-refresh-token", refreshToken);
        _refreshTokens[refreshToken] = account;
        var access = "ya29." + Token(32);
        Issued.Add("google-access-token", access);
        _accessTokens[access] = (account, refreshToken);
        (_grantedScopes[refreshToken], _grantedScopes[access]) = (scope, scope);
        return access;
    }

    /// <summary>The scopes granted to the request's bearer token, for the contract's scope check; null when there is no known token.</summary>
    private IReadOnlyCollection<string>? ScopesOf(HttpRequest request)
    {
        var bearer = request.Headers.Authorization.ToString();
        if (!bearer.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return null;
        }

        lock (_gate)
        {
            return _grantedScopes.TryGetValue(bearer["Bearer ".Length..], out var scope) ? scope.Split(' ', StringSplitOptions.RemoveEmptyEntries) : null;
        }
    }

    private Reply Revoke(string? token)
    {
        if (token is null)
        {
            return OAuthError(HttpStatusCode.BadRequest, "invalid_request", "Missing required parameter: token");
        }

        var refresh = _refreshTokens.ContainsKey(token) ? token : _accessTokens.TryGetValue(token, out var grant) ? grant.RefreshToken : null;
        if (refresh is null || !_revokedRefreshTokens.Add(refresh))
        {
            return OAuthError(HttpStatusCode.BadRequest, "invalid_token", "Token expired or revoked");
        }

        return new Reply(HttpStatusCode.OK, new JsonObject());
    }

    private Reply InsertCalendar(string account, string body)
    {
        if (Parse(body) is not { } calendar || calendar["summary"] is null)
        {
            return ApiError(HttpStatusCode.BadRequest, "required", "Missing title.");
        }

        var id = $"{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}@group.calendar.google.com";
        calendar["id"] = id;
        calendar["kind"] = "calendar#calendar";
        _calendars[id] = new SimulatedCalendar(id, account, calendar);
        return new Reply(HttpStatusCode.OK, calendar.DeepClone());
    }

    private Reply DeleteCalendar(SimulatedCalendar calendar)
    {
        Notify(calendar.Id, "not_exists");
        foreach (var channel in _channels.Values.Where(c => c.CalendarId == calendar.Id).ToList())
        {
            _channels.Remove(channel.Id);
        }

        _calendars.Remove(calendar.Id);
        foreach (var key in _events.Keys.Where(k => k.Calendar == calendar.Id).ToList())
        {
            _events.Remove(key);
        }

        return new Reply(HttpStatusCode.NoContent);
    }

    private Reply InsertEvent(SimulatedCalendar calendar, string body)
    {
        if (Parse(body) is not { } payload)
        {
            return ApiError(HttpStatusCode.BadRequest, "parseError", "Parse Error");
        }

        var id = payload["id"]?.GetValue<string>();
        if (id is not null && !EventIdRule().IsMatch(id))
        {
            return ApiError(HttpStatusCode.BadRequest, "invalid", "Invalid resource id value.");
        }

        id ??= Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));
        if (_events.TryGetValue((calendar.Id, id), out var existing))
        {
            // Google keeps deleted events as cancelled entries: their id stays taken, answered 409 or (reported) 403.
            return existing.Cancelled && DeletedIdReuse == DeletedIdReuse.Forbidden
                ? ApiError(HttpStatusCode.Forbidden, "forbidden", "Forbidden")
                : ApiError(HttpStatusCode.Conflict, "duplicate", "The requested identifier already exists.");
        }

        if (payload["start"] is null || payload["end"] is null)
        {
            return ApiError(HttpStatusCode.BadRequest, "required", "Missing time.");
        }

        payload["id"] = id;
        var stored = new SimulatedEvent(calendar.Id, id, payload, false, ++_sequence);
        _events[(calendar.Id, id)] = stored;
        Notify(calendar.Id, "exists");
        return new Reply(HttpStatusCode.OK, Describe(stored));
    }

    private (HttpStatusCode, JsonNode) PatchEvent(SimulatedEvent current, string body)
    {
        if (Parse(body) is not { } patch)
        {
            return (HttpStatusCode.BadRequest, ApiError(HttpStatusCode.BadRequest, "parseError", "Parse Error").Json!);
        }

        // Patch semantics: a field sent replaces the one held (objects field by field, an array as a whole); a field omitted is kept.
        var merged = (JsonObject)current.Body.DeepClone();
        MergePatch(merged, patch);
        return Write(current, merged, patch["status"]?.GetValue<string>());
    }

    /// <summary>events.update: the body replaces the whole event (a field omitted is cleared); start and end are required.</summary>
    private (HttpStatusCode, JsonNode) UpdateEvent(SimulatedEvent current, string body)
    {
        if (Parse(body) is not { } replacement)
        {
            return (HttpStatusCode.BadRequest, ApiError(HttpStatusCode.BadRequest, "parseError", "Parse Error").Json!);
        }

        if (replacement["start"] is null || replacement["end"] is null)
        {
            return (HttpStatusCode.BadRequest, ApiError(HttpStatusCode.BadRequest, "required", "Missing time.").Json!);
        }

        var status = replacement["status"]?.GetValue<string>();
        replacement.Remove("id");
        replacement["id"] = current.Id;
        return Write(current, replacement, status ?? "confirmed");
    }

    private (HttpStatusCode, JsonNode) Write(SimulatedEvent current, JsonObject body, string? status)
    {
        var cancelled = status is null ? current.Cancelled : status == "cancelled";
        if (current.Cancelled && cancelled)
        {
            return (HttpStatusCode.Gone, ApiError(HttpStatusCode.Gone, "deleted", "Resource has been deleted").Json!);
        }

        if (current.Cancelled && DeletedEventUpdate == DeletedEventUpdate.Forbidden)
        {
            return (HttpStatusCode.Forbidden, ApiError(HttpStatusCode.Forbidden, "forbidden", "Forbidden").Json!);
        }

        body.Remove("status");
        var updated = current with { Body = body, Cancelled = cancelled, Sequence = ++_sequence };
        _events[(current.CalendarId, current.Id)] = updated;
        Notify(current.CalendarId, "exists");
        return (HttpStatusCode.OK, Describe(updated));
    }

    private static void MergePatch(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch)
        {
            if (value is JsonObject nested && target[key] is JsonObject held)
            {
                MergePatch(held, nested);
            }
            else if (value is null)
            {
                target.Remove(key);
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
    }

    private (HttpStatusCode, JsonNode?) DeleteEvent(SimulatedEvent current)
    {
        if (current.Cancelled)
        {
            return (HttpStatusCode.Gone, ApiError(HttpStatusCode.Gone, "deleted", "Resource has been deleted").Json);
        }

        _events[(current.CalendarId, current.Id)] = current with { Cancelled = true, Sequence = ++_sequence };
        Notify(current.CalendarId, "exists");
        return (HttpStatusCode.NoContent, null);
    }

    private Reply ListEvents(SimulatedCalendar calendar, IQueryCollection query)
    {
        long since = 0;
        var syncToken = query["syncToken"].ToString();
        var filters = ListFilters(query);
        if (syncToken.Length > 0)
        {
            if (!_syncTokenFilters.TryGetValue(syncToken, out var issuedFor) || !long.TryParse(syncToken.Split('-')[1], CultureInfo.InvariantCulture, out since) || since < _syncTokenFloor)
            {
                return ApiError(HttpStatusCode.Gone, "fullSyncRequired", "Sync token is no longer valid, a full sync is required.");
            }

            // An incremental listing may not narrow by time, text or order, may not hide deletions, and repeats the full listing's filters.
            if (SyncTokenExcluded.Any(query.ContainsKey) || query["showDeleted"] == "false" || filters != issuedFor)
            {
                return ApiError(HttpStatusCode.BadRequest, "invalid", "Invalid parameters for an incremental sync.");
            }
        }

        var showDeleted = syncToken.Length > 0 || query["showDeleted"] == "true";
        var changed = _events.Values
            .Where(e => e.CalendarId == calendar.Id && e.Sequence > since && (showDeleted || !e.Cancelled))
            .OrderBy(e => e.Sequence)
            .ToList();
        var pageSize = int.TryParse(query["maxResults"], CultureInfo.InvariantCulture, out var max) ? Math.Clamp(max, 1, 2500) : 250;
        var offset = int.TryParse(query["pageToken"], CultureInfo.InvariantCulture, out var o) ? o : 0;
        var page = changed.Skip(offset).Take(pageSize).Select(e => (JsonNode)Describe(e)).ToArray();
        var result = new JsonObject { ["kind"] = "calendar#events", ["items"] = new JsonArray(page) };
        if (offset + pageSize < changed.Count)
        {
            result["nextPageToken"] = (offset + pageSize).ToString(CultureInfo.InvariantCulture);
        }
        else
        {
            var next = $"sync-{_sequence}-{_syncTokenFilters.Count}";
            _syncTokenFilters[next] = filters;
            result["nextSyncToken"] = next;
        }

        return new Reply(HttpStatusCode.OK, result);
    }

    /// <summary>events.watch: id, type and an https address required (400 otherwise, or for an id already in use); the expiry capped; a sync message follows.</summary>
    private Reply Watch(SimulatedCalendar calendar, string body)
    {
        if (Parse(body) is not { } request)
        {
            return ApiError(HttpStatusCode.BadRequest, "parseError", "Parse Error");
        }

        var id = request["id"]?.GetValue<string>();
        var type = request["type"]?.GetValue<string>();
        var address = request["address"]?.GetValue<string>();
        var token = request["token"]?.GetValue<string>();
        if (id is null || id.Length > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '+' or '/' or '='))
        {
            return ApiError(HttpStatusCode.BadRequest, "invalid", "Invalid channel id.");
        }

        if (type is not ("web_hook" or "webhook"))
        {
            return ApiError(HttpStatusCode.BadRequest, "required", "Missing or unknown channel type.");
        }

        if (!Uri.TryCreate(address, UriKind.Absolute, out var target)
            || !(target.Scheme == Uri.UriSchemeHttps || (target.Scheme == Uri.UriSchemeHttp && target.IsLoopback && AllowLoopbackHttpAddresses)))
        {
            return ApiError(HttpStatusCode.BadRequest, "push.webhookUrlNotHttps", "WebHook callback must be HTTPS.");
        }

        if (token is { Length: > 256 })
        {
            return ApiError(HttpStatusCode.BadRequest, "invalid", "Channel token too long.");
        }

        if (_channels.ContainsKey(id))
        {
            return ApiError(HttpStatusCode.BadRequest, "channelIdNotUnique", "Channel id not unique.");
        }

        var now = _time.GetUtcNow();
        var latest = now + MaxChannelLifetime;
        var expires = long.TryParse(request["expiration"]?.GetValue<string>(), CultureInfo.InvariantCulture, out var ms) && DateTimeOffset.FromUnixTimeMilliseconds(ms) < latest
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : latest;
        var channel = new SimulatedChannel(id, "res-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(calendar.Id)))[..20], calendar.Id, calendar.Account, target, token, expires);
        _channels[id] = channel;
        Issued.Add("google-channel-token", token);
        Enqueue(channel, "sync", NotificationFault.Deliver);
        var answer = new JsonObject
        {
            ["kind"] = "api#channel",
            ["id"] = id,
            ["resourceId"] = channel.ResourceId,
            ["resourceUri"] = $"{BaseAddress}calendar/v3/calendars/{Uri.EscapeDataString(calendar.Id)}/events?alt=json",
            ["expiration"] = expires.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
        };
        if (token is not null)
        {
            answer["token"] = token;
        }

        return new Reply(HttpStatusCode.OK, answer);
    }

    /// <summary>channels.stop: id and resourceId of a channel the caller opened; 404 otherwise.</summary>
    private Reply StopChannel(string account, string body)
    {
        if (Parse(body) is not { } request || request["id"]?.GetValue<string>() is not { } id || request["resourceId"]?.GetValue<string>() is not { } resourceId)
        {
            return ApiError(HttpStatusCode.BadRequest, "required", "Required: id and resourceId.");
        }

        if (!_channels.TryGetValue(id, out var channel) || channel.ResourceId != resourceId || channel.Account != account)
        {
            return ApiError(HttpStatusCode.NotFound, "notFound", $"Channel '{id}' not found for project");
        }

        _channels.Remove(id);
        return new Reply(HttpStatusCode.NoContent);
    }

    /// <summary>A change to a calendar: one notification per live channel on it, each subject to the fault plan. Called under the gate.</summary>
    private void Notify(string calendarId, string state)
    {
        var now = _time.GetUtcNow();
        foreach (var channel in _channels.Values.Where(c => c.CalendarId == calendarId && c.ExpiresAtUtc > now))
        {
            Enqueue(channel, state, Faults.NextNotification());
        }
    }

    private void Enqueue(SimulatedChannel channel, string state, NotificationFault fault)
    {
        var number = _messageNumbers[channel.Id] = _messageNumbers.GetValueOrDefault(channel.Id) + 1;
        if (fault == NotificationFault.Drop)
        {
            _notifications.Add(new SentGoogleNotification(_time.GetUtcNow(), channel.Id, state, number, 0, fault));
            return;
        }

        for (var copies = fault == NotificationFault.Repeat ? 2 : 1; copies > 0; copies--)
        {
            Interlocked.Increment(ref _pendingNotifications);
            _outbox.Writer.TryWrite((channel, state, number, fault));
        }
    }

    /// <summary>Posts queued notifications one at a time: headers as Google sends them, no body.</summary>
    private async Task DeliverAsync()
    {
        try
        {
            await foreach (var (channel, state, number, fault) in _outbox.Reader.ReadAllAsync(_stopping.Token))
            {
                var status = 0;
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, channel.Address) { Content = new ByteArrayContent([]) };
                    request.Headers.Add("X-Goog-Channel-ID", channel.Id);
                    request.Headers.Add("X-Goog-Channel-Expiration", channel.ExpiresAtUtc.ToString("R", CultureInfo.InvariantCulture));
                    request.Headers.Add("X-Goog-Resource-ID", channel.ResourceId);
                    request.Headers.Add("X-Goog-Resource-URI", $"{BaseAddress}calendar/v3/calendars/{Uri.EscapeDataString(channel.CalendarId)}/events?alt=json");
                    request.Headers.Add("X-Goog-Resource-State", state);
                    request.Headers.Add("X-Goog-Message-Number", number.ToString(CultureInfo.InvariantCulture));
                    if (channel.Token is not null)
                    {
                        request.Headers.Add("X-Goog-Channel-Token", channel.Token);
                    }

                    using var response = await _notifier.SendAsync(request, _stopping.Token);
                    status = (int)response.StatusCode;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !_stopping.IsCancellationRequested)
                {
                    // Nobody listening: Google would retry 5xx with backoff; the simulator records the loss.
                }
                finally
                {
                    lock (_gate)
                    {
                        _notifications.Add(new SentGoogleNotification(_time.GetUtcNow(), channel.Id, state, number, status, fault));
                    }

                    Interlocked.Decrement(ref _pendingNotifications);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>The parameters of events.list that shape the result set (paging and cursors aside), as one comparable string.</summary>
    private static string ListFilters(IQueryCollection query) => string.Join('&', query
        .Where(p => p.Key is not ("syncToken" or "pageToken" or "maxResults"))
        .OrderBy(p => p.Key, StringComparer.Ordinal)
        .Select(p => $"{p.Key}={p.Value}"));

    /// <summary>events.list parameters that cannot be combined with syncToken (discovery document, syncToken).</summary>
    private static readonly string[] SyncTokenExcluded = ["iCalUID", "orderBy", "privateExtendedProperty", "q", "sharedExtendedProperty", "timeMin", "timeMax", "updatedMin"];

    private Reply WithCalendar(string account, string calendarId, Func<SimulatedCalendar, Reply> action) =>
        _calendars.TryGetValue(calendarId, out var calendar) && calendar.Account == account
            ? action(calendar)
            : ApiError(HttpStatusCode.NotFound, "notFound", "Not Found");

    private Reply WithEvent(string account, string calendarId, string eventId, Func<SimulatedEvent, (HttpStatusCode, JsonNode?)> action) =>
        WithCalendar(account, calendarId, calendar =>
        {
            if (!_events.TryGetValue((calendar.Id, eventId), out var found))
            {
                return ApiError(HttpStatusCode.NotFound, "notFound", "Not Found");
            }

            var (status, json) = action(found);
            return new Reply(status, json);
        });

    private static JsonObject Describe(SimulatedEvent stored)
    {
        var described = (JsonObject)stored.Body.DeepClone();
        described["kind"] = "calendar#event";
        described["id"] = stored.Id;
        described["status"] = stored.Cancelled ? "cancelled" : "confirmed";
        described["updated"] = stored.Sequence.ToString(CultureInfo.InvariantCulture);
        return described;
    }

    /// <summary>Google's error shape for an injected fault: rateLimitExceeded on 429, backendError otherwise.</summary>
    private static Reply FaultError(int status) => status == StatusCodes.Status429TooManyRequests
        ? ApiError(HttpStatusCode.TooManyRequests, "rateLimitExceeded", "Rate Limit Exceeded")
        : ApiError(status == 0 ? HttpStatusCode.ServiceUnavailable : (HttpStatusCode)status, "backendError", "Backend Error");

    private static Reply ApiError(HttpStatusCode status, string reason, string message) => new(status, new JsonObject
    {
        ["error"] = new JsonObject
        {
            ["code"] = (int)status,
            ["message"] = message,
            ["errors"] = new JsonArray(new JsonObject { ["domain"] = reason.Contains("Limit", StringComparison.Ordinal) ? "usageLimits" : "global", ["reason"] = reason, ["message"] = message }),
        },
    });

    private static Reply OAuthError(HttpStatusCode status, string error, string description) =>
        new(status, new JsonObject { ["error"] = error, ["error_description"] = description });

    private static Reply HtmlError(string title, string detail) =>
        new(HttpStatusCode.BadRequest, Html: $"<!doctype html><html><body><h1 id=\"error\">{WebUtility.HtmlEncode(title)}</h1><p>{WebUtility.HtmlEncode(detail)}</p></body></html>");

    private static Dictionary<string, string> Form(string body) =>
        QueryHelpers.ParseQuery(body).ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);

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

    private static string Token(int bytes) => Base64UrlTextEncoder.Encode(RandomNumberGenerator.GetBytes(bytes));

    [GeneratedRegex("^[a-v0-9]{5,1024}$")]
    private static partial Regex EventIdRule();

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _outbox.Writer.TryComplete();
        await _delivery;
        _notifier.Dispose();
        _stopping.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed record PendingCode(string Account, string RedirectUri, string CodeChallenge, string Scope, bool Offline, DateTimeOffset ExpiresAtUtc);

    private sealed record Reply(HttpStatusCode Status, JsonNode? Json = null, string? Html = null, string? Location = null);
}
