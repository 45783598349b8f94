using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Fuzzing;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Zoom;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Vimeo;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Headers;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Xunit.Abstractions;
using ZoomWebhookVerifier = Cafetalk.Integrations.Zoom.ZoomWebhookVerifier;
using Cafetalk.Integrations.Zoom;

namespace Cafetalk.Integrations.IntegrationTests.Fuzzing;

/// <summary>
/// Every HTTP route (read from the <c>[HttpTrigger]</c> attributes and served on Kestrel, as <c>serve --sandbox</c> runs them)
/// gets <see cref="FuzzSettings.Count"/> generated requests over real HTTP on loopback: no 5xx and no reset connection; each
/// bad request refused with a 4xx in the route's form (ProblemDetails for API clients, a ja/en page for browsers); nothing
/// written (the whole storage account is compared before and after), no provider called, no planted value echoed or logged.
/// Requests that happen to be valid are counted and checked against what the route must do with them.
/// </summary>
public sealed partial class HttpRouteFuzzTests(FuzzFixture fixture, ITestOutputHelper output) : IClassFixture<FuzzFixture>, IDisposable
{
    private const int Parallelism = 8;
    private const string NewsletterList = "cafetalk-news";
    private static readonly string[] HostLevelStatuses = ["400", "401", "404", "405", "411", "413", "414", "431"];

    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, MaxConnectionsPerServer = Parallelism * 2 })
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    // What the last RunAsync saw besides the answers: provider requests, log lines with a planted value, server errors.
    private int _providerRequestsMade;
    private List<string> _plantedInLogs = [];
    private List<string> _serverErrors = [];

    public void Dispose() => _http.Dispose();

    /// <summary>What came back for one request.</summary>
    private sealed record Answer(HttpFuzzRequest Request, int Status, string? ContentType, string Body, string Headers, string? Error)
    {
        /// <summary>An answer from the server or host itself (no route, wrong method, no key, a Kestrel limit), not from the function.</summary>
        public bool IsHostLevel => Body.Length == 0 && Error is null && HostLevelStatuses.Contains(Status.ToString(System.Globalization.CultureInfo.InvariantCulture));

        public override string ToString() => $"{Status} {ContentType} {FuzzSettings.Show(Body.Length > 200 ? Body[..200] : Body)} ← {Request}";
    }

    [Fact]
    public async Task ZoomWebhook_FuzzedRequests_RefusedWith4xxProblems_NothingWrittenForThem()
    {
        await fixture.ResetAsync();
        const string route = "zoom/webhook";
        var oversized = from size in Gen.Elements(256 * 1024 + 1, 300 * 1024, 1024 * 1024 + 1) select HttpFuzzInputs.Large(string.Empty, 'a', size);
        var inputs = FuzzSettings.Inputs("http:zoom-webhook",
            from method in HttpFuzzInputs.Method("POST")
            from path in HttpFuzzInputs.Path(route)
            from body in Gen.Frequency(
                (12, JsonMutator.Mutations(HttpFuzzInputs.ZoomWebhookBody()).Select(Encoding.UTF8.GetBytes)),
                (1, HttpFuzzInputs.ZoomWebhookBody().Select(b => Encoding.UTF8.GetBytes(b.ToJsonString()))),
                (4, Junk.AnyText().Select(Encoding.UTF8.GetBytes)),
                (1, oversized))
            from signing in Gen.Frequency(
                (8, Gen.Constant(WebhookSigning.Fresh)), (1, Gen.Constant(WebhookSigning.None)), (1, Gen.Constant(WebhookSigning.TimestampOnly)),
                (1, Gen.Constant(WebhookSigning.SignatureOnly)), (1, Gen.Constant(WebhookSigning.Stale)), (1, Gen.Constant(WebhookSigning.Future)),
                (1, Gen.Constant(WebhookSigning.WrongSecret)), (2, Gen.Constant(WebhookSigning.Corrupted)), (1, Gen.Constant(WebhookSigning.Junk)))
            from junkTimestamp in HttpFuzzInputs.HeaderSafe()
            from junkSignature in HttpFuzzInputs.HeaderSafe()
            from contentType in Gen.Frequency((8, Gen.Constant<string?>("application/json")), (1, Gen.Constant<string?>(null)), (1, Gen.Elements<string?>("text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", "")))
            from chunked in Gen.Frequency((9, Gen.Constant(false)), (1, Gen.Constant(true)))
            from headers in HttpFuzzInputs.Headers()
            let junkHeaders = signing == WebhookSigning.Junk
                ? headers.Append(new(ZoomWebhookVerifier.TimestampHeader, junkTimestamp)).Append(new(ZoomWebhookVerifier.SignatureHeader, junkSignature)).ToList()
                : headers
            select new HttpFuzzRequest(method, path, junkHeaders, body, contentType, chunked, signing, "webhook"));

        var (answers, diff, elapsed) = await RunAsync(inputs);
        var problems = new ConcurrentQueue<string>();
        var outcomes = new ConcurrentDictionary<string, int>();
        foreach (var answer in answers)
        {
            var kind = CheckCommon(answer, problems, expectedMethod: "POST", canonical: IsCanonical(answer.Request, route, "POST") && answer.Request.Body!.Length <= 1024 * 1024);
            if (kind != "app")
            {
                outcomes.AddOrUpdate(kind, 1, (_, n) => n + 1);
                continue;
            }

            var request = answer.Request;
            var tooLarge = request.Body!.Length > 256 * 1024;
            var signed = request.Signing == WebhookSigning.Fresh;
            string outcome;
            if (answer.Status == 200)
            {
                outcome = CheckWebhookAccepted(answer, problems);
                if (!signed || tooLarge)
                {
                    problems.Enqueue($"accepted without a fresh genuine signature or over the size limit: {answer}");
                }
            }
            else
            {
                var expectedType = tooLarge ? "too-large" : !signed ? "signature" : "bad-body";
                var expectedStatus = tooLarge ? 413 : !signed ? 401 : 400;
                CheckProblem(answer, expectedStatus, "https://cafetalk.com/problems/zoom-webhook/" + expectedType, problems);
                outcome = $"{answer.Status} {expectedType}";
            }

            outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
        }

        // Only what was accepted as new is written: one replay-guard row and one zoom-events message each.
        var enqueued = outcomes.GetValueOrDefault("200 enqueued");
        var allowed = new Dictionary<string, int> { [QueueNames.ZoomEvents] = enqueued };
        CheckDiff(diff, allowed, problems, row => row.Table == TableNames.ZoomWebhookEvents && row.Kind == "added");
        if (diff.In(TableNames.ZoomWebhookEvents).Count() != enqueued)
        {
            problems.Enqueue($"{diff.In(TableNames.ZoomWebhookEvents).Count()} replay-guard rows for {enqueued} enqueued events");
        }

        await CheckEnqueuedZoomEventsAsync(problems);
        Report("POST /api/zoom/webhook", answers, outcomes, elapsed, problems);
    }

    [Fact]
    public async Task NewsletterUnsubscribePage_FuzzedGets_ShowTheInvalidLinkPage_AndChangeNothing()
    {
        const string route = NewsletterFlow.UnsubscribeRoute;
        var (token, _) = await SubscribeAsync("fuzz_page");
        var inputs = FuzzSettings.Inputs("http:newsletter-page",
            from method in HttpFuzzInputs.Method("GET")
            from path in HttpFuzzInputs.Path(route)
            from query in HttpFuzzInputs.Query(("t", TokenValues(token)), ("lang", Gen.Elements("ja", "en", "fr", "", "JA")))
            from headers in HttpFuzzInputs.Headers()
            select new HttpFuzzRequest(method, path + query, headers, Kind: "page"));

        var (answers, diff, elapsed) = await RunAsync(inputs);
        var problems = new ConcurrentQueue<string>();
        var outcomes = new ConcurrentDictionary<string, int>();
        var tokens = fixture.Services.GetRequiredService<UnsubscribeTokens>();
        foreach (var answer in answers)
        {
            var kind = CheckCommon(answer, problems, expectedMethod: "GET", canonical: IsCanonical(answer.Request, route, "GET"));
            if (kind == "app")
            {
                var genuine = tokens.Verify(QueryValue(answer.Request, "t")) is not null;
                kind = genuine ? "200 confirm page (genuine token)" : "404 invalid-link page";
                CheckPage(answer, genuine ? 200 : 404, genuine ? "配信を停止|Unsubscribe" : "このリンクは無効です|This link is not valid", problems);
            }

            outcomes.AddOrUpdate(kind, 1, (_, n) => n + 1);
        }

        CheckDiff(diff, [], problems);
        Report("GET /api/newsletter/unsubscribe", answers, outcomes, elapsed, problems);
    }

    [Fact]
    public async Task NewsletterOneClick_FuzzedPosts_RefusedWith4xx_OnlyTheGenuineOneClickUnsubscribes()
    {
        var (token, subjectRef) = await SubscribeAsync("fuzz_oneclick");
        await FuzzPreferenceRouteAsync("http:newsletter-one-click", NewsletterFlow.UnsubscribeRoute, token, subjectRef, SubscriptionStatus.Unsubscribed);
    }

    [Fact]
    public async Task NewsletterResubscribe_FuzzedPosts_RefusedWith4xx_NoneResubscribesWithoutThePagesConfirmation()
    {
        var (token, subjectRef) = await SubscribeAsync("fuzz_resub");
        await fixture.Services.GetRequiredService<NewsletterPreferences>().UnsubscribeAsync(token, ConsentSources.Page);
        await FuzzPreferenceRouteAsync("http:newsletter-resubscribe", NewsletterFlow.ResubscribeRoute, token, subjectRef, SubscriptionStatus.Subscribed);
    }

    [Fact]
    public async Task CalendarConnect_FuzzedTickets_ShowTheInvalidLinkPage_OnlyTheGenuineTicketStartsAConnect()
    {
        await fixture.ResetAsync();
        const string route = CalendarConnectFlow.ConnectRoute;
        var ticket = fixture.Services.GetRequiredService<ConnectTickets>().Issue("lec_fuzz_connect");
        var inputs = FuzzSettings.Inputs("http:calendar-connect",
            from method in HttpFuzzInputs.Method("GET")
            from path in HttpFuzzInputs.Path(route)
            from query in HttpFuzzInputs.Query(("ticket", TicketValues(ticket)), ("lang", Gen.Elements("ja", "en", "fr", "")))
            from headers in HttpFuzzInputs.Headers()
            select new HttpFuzzRequest(method, path + query, headers, Kind: "connect"));

        var (answers, diff, elapsed) = await RunAsync(inputs);
        var problems = new ConcurrentQueue<string>();
        var outcomes = new ConcurrentDictionary<string, int>();
        var tickets = fixture.Services.GetRequiredService<ConnectTickets>();
        var consentUrl = fixture.Sandbox.Google.BaseAddress + "o/oauth2/v2/auth?";
        foreach (var answer in answers)
        {
            var kind = CheckCommon(answer, problems, expectedMethod: "GET", canonical: IsCanonical(answer.Request, route, "GET"));
            if (kind == "app")
            {
                var genuine = tickets.Verify(QueryValue(answer.Request, "ticket")) == "lec_fuzz_connect";
                if (genuine)
                {
                    kind = "302 to Google (genuine ticket)";
                    if (answer.Status != 302 || !answer.Headers.Contains("Location: " + consentUrl, StringComparison.Ordinal) || !answer.Headers.Contains("__Host-cafetalk-calendar=", StringComparison.Ordinal))
                    {
                        problems.Enqueue($"a genuine ticket did not start the connect: {answer}");
                    }
                }
                else
                {
                    kind = "400 invalid-link page";
                    CheckPage(answer, 400, "このリンクは無効です|This link is not valid", problems);
                }
            }

            outcomes.AddOrUpdate(kind, 1, (_, n) => n + 1);
        }

        // Each genuine connect saves one state; nothing else is written, and Google is not called until the browser goes there.
        var started = outcomes.GetValueOrDefault("302 to Google (genuine ticket)");
        CheckDiff(diff, [], problems, row => row.Table == TableNames.CalendarConnectStates && row.Kind == "added");
        if (diff.In(TableNames.CalendarConnectStates).Count() != started)
        {
            problems.Enqueue($"{diff.In(TableNames.CalendarConnectStates).Count()} connect states saved for {started} genuine connects");
        }

        Report("GET /api/calendar/connect", answers, outcomes, elapsed, problems);
    }

    [Fact]
    public async Task CalendarCallback_FuzzedStatesCookiesAndCodes_ShowTheMismatchPage_AndCallNoProvider()
    {
        const string route = CalendarCallbackFlow.CallbackRoute;
        var sessions = await StartConnectsAsync(16);
        var states = sessions.Select(s => s.State).ToArray();
        var inputs = FuzzSettings.Inputs("http:calendar-callback",
            from method in HttpFuzzInputs.Method("GET")
            from path in HttpFuzzInputs.Path(route)
            from pick in Gen.Choose(0, sessions.Count - 1)
            from other in Gen.Choose(1, sessions.Count - 1)
            let state = sessions[pick].State
            from stateValue in Gen.Frequency(
                (3, Gen.Constant(state)),
                (4, TokenMutations.Of(state).Where(s => s != state)),
                (2, Gen.ArrayOf(Gen.Elements("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".ToCharArray()), 43).Select(c => new string(c))),
                (2, Junk.Text()))
            from code in Gen.Frequency((4, Gen.Elements("4/0AfJohX", "code-" + Junk.Marker, "", new string('c', 2049))), (2, Junk.Text()))
            from error in Gen.Frequency((6, Gen.Constant<string?>(null)), (1, Gen.Elements<string?>("access_denied", "server_error", Junk.Marker)), (1, Junk.Text().Select(t => (string?)t)))
            from query in HttpFuzzInputs.Query(("state", HttpFuzzInputs.QueryEncoded(stateValue)), ("code", HttpFuzzInputs.QueryEncoded(code)),
                ("error", error is null ? Gen.Constant(string.Empty) : HttpFuzzInputs.QueryEncoded(error)), ("lang", Gen.Elements("ja", "en", "")))
            from cookie in Gen.Frequency(
                (3, Gen.Constant<string?>(null)),
                (3, TokenMutations.Of(sessions[pick].Cookie).Where(c => c != sessions[pick].Cookie).Select(c => (string?)c)),
                (3, Gen.Constant<string?>(sessions[(pick + other) % sessions.Count].Cookie)),
                (1, HttpFuzzInputs.HeaderSafe().Select(c => (string?)c)))
            from headers in HttpFuzzInputs.Headers()
            select new HttpFuzzRequest(method, path + query,
                cookie is null ? headers : [.. headers, new("Cookie", $"__Host-cafetalk-calendar={HttpFuzzInputs.Ascii(cookie)}")], Kind: "callback"));

        var (answers, diff, elapsed) = await RunAsync(inputs);
        var problems = new ConcurrentQueue<string>();
        var outcomes = new ConcurrentDictionary<string, int>();
        var presented = new HashSet<string>(StringComparer.Ordinal);
        foreach (var answer in answers)
        {
            var kind = CheckCommon(answer, problems, expectedMethod: "GET", canonical: IsCanonical(answer.Request, route, "GET"));
            if (kind == "app")
            {
                // The right cookie is never sent: every callback must be refused, whatever its state, code or error says.
                kind = "400 session-mismatch page";
                CheckPage(answer, 400, "連携を完了できませんでした|The connection could not be completed", problems);
                if (QueryValue(answer.Request, "state") is { } state && states.Contains(state))
                {
                    presented.Add(state);
                }
            }

            outcomes.AddOrUpdate(kind, 1, (_, n) => n + 1);
        }

        // One try per state, by design: a genuine state presented with the wrong cookie is spent (its row deleted).
        CheckDiff(diff, [], problems, row => row.Table == TableNames.CalendarConnectStates && row.Kind == "deleted" && presented.Contains(row.PartitionKey));
        if (diff.In(TableNames.CalendarConnectStates).Count() != presented.Count)
        {
            problems.Enqueue($"{diff.In(TableNames.CalendarConnectStates).Count()} states spent for {presented.Count} genuine states presented");
        }

        outcomes["(genuine states spent)"] = presented.Count;
        Report("GET /api/calendar/callback", answers, outcomes, elapsed, problems);
    }

    [Fact]
    public async Task CalendarDisconnect_FuzzedBodiesAndKeys_RefusedWith4xxProblems_AndChangeNothing()
    {
        await fixture.ResetAsync();
        const string route = CalendarDisconnectFlow.DisconnectRoute;
        var valid = new JsonObject { ["lecturerId"] = "lec_fuzz_disconnect" };
        var inputs = FuzzSettings.Inputs("http:calendar-disconnect",
            from method in HttpFuzzInputs.Method("POST")
            from path in HttpFuzzInputs.Path(route)
            from key in KeyPlacement()
            from body in Gen.Frequency(
                (2, QueueMessages.ValidId().Select(id => new JsonObject { ["lecturerId"] = id }.ToJsonString())),
                (8, JsonMutator.Mutations(Gen.Constant(valid))),
                (4, Junk.AnyText()),
                (1, Gen.Elements("", "{\"lecturerId\":\"\\ud800\"}", "{\"lecturerId\":\"lec\\u0000\"}", "null", "[]", "{\"lecturerId\":null}")))
            from contentType in Gen.Frequency((6, Gen.Constant<string?>("application/json")), (1, Gen.Elements<string?>(null, "text/plain", "application/x-www-form-urlencoded")))
            from chunked in Gen.Frequency((9, Gen.Constant(false)), (1, Gen.Constant(true)))
            from headers in HttpFuzzInputs.Headers()
            select new HttpFuzzRequest(method, path + key.Query, [.. headers, .. key.Headers], Encoding.UTF8.GetBytes(body), contentType, chunked, Kind: "disconnect"));

        var (answers, diff, elapsed) = await RunAsync(inputs);
        var problems = new ConcurrentQueue<string>();
        var outcomes = new ConcurrentDictionary<string, int>();
        foreach (var answer in answers)
        {
            var keyed = HasRightKey(answer.Request);
            var kind = CheckCommon(answer, problems, expectedMethod: "POST", canonical: keyed && IsCanonical(answer.Request, route, "POST"));
            if (kind == "host 401" && keyed)
            {
                problems.Enqueue($"the right function key was refused: {answer}");
            }

            if (kind == "app")
            {
                if (!keyed)
                {
                    problems.Enqueue($"served without the function key: {answer}");
                }

                var wellFormed = LecturerIdOf(answer.Request.Body!) is { } id && TableKeys.IsValidId(id);
                if (answer.Request.Body!.Length > CalendarDisconnectFlow.MaxDisconnectBodyBytes)
                {
                    // The route reads at most 4 KiB (RequestBody): anything longer is refused before it is parsed.
                    kind = "413 too-large";
                    CheckProblem(answer, 413, "https://cafetalk.com/problems/calendar/too-large", problems);
                }
                else if (wellFormed)
                {
                    kind = "200 not-connected (well-formed)";
                    if (answer.Status != 200 || !answer.Body.Contains("\"not-connected\"", StringComparison.Ordinal))
                    {
                        problems.Enqueue($"a well-formed disconnect of a lecturer who is not connected did not answer not-connected: {answer}");
                    }
                }
                else
                {
                    kind = "400 bad-body";
                    CheckProblem(answer, 400, "https://cafetalk.com/problems/calendar/bad-body", problems);
                }
            }

            outcomes.AddOrUpdate(kind, 1, (_, n) => n + 1);
        }

        CheckDiff(diff, [], problems);
        Report("POST /api/calendar/disconnect", answers, outcomes, elapsed, problems);
    }

    [Fact]
    public async Task DisclosureExport_FuzzedMemberIdsAndFormats_RefusedWith4xxProblems_AndChangeNothing()
    {
        await fixture.ResetAsync();
        var segments = Gen.Frequency(
            (3, QueueMessages.ValidId().Select(id => (Raw: id, Plain: true))),
            (3, Junk.Text().Select(t => (Raw: Uri.EscapeDataString(Utf8(Cap(t))), Plain: false))),
            (2, Gen.Elements("", ".", "..", "...", "%2E%2E", "a%2Fb", "a/b", "_a", "-", "a%00", "%ZZ", "a;b", "a b", "%20", "a%2520b", new string('m', 65), Junk.Marker)
                .Select(s => (Raw: s, Plain: false))));
        var inputs = FuzzSettings.Inputs("http:disclosure-export",
            from method in HttpFuzzInputs.Method("GET")
            from segment in segments
            from key in KeyPlacement()
            from query in HttpFuzzInputs.Query(("format", Gen.Elements("json", "csv", "xml", "", "JSON", Junk.Marker)), ("lang", Gen.Elements("ja", "en", "fr", "")))
            from headers in HttpFuzzInputs.Headers()
            select (Request: new HttpFuzzRequest(method, $"/api/members/{segment.Raw}/disclosures{WithParameter(query, key.Query)}", [.. headers, .. key.Headers, PrivacyOfficeKey], Kind: "export"), segment.Plain));

        var (answers, diff, elapsed) = await RunAsync([.. inputs.Select(i => i.Request)]);
        var plain = inputs.Where(i => i.Plain).Select(i => i.Request).ToHashSet();
        var problems = new ConcurrentQueue<string>();
        var outcomes = new ConcurrentDictionary<string, int>();
        foreach (var answer in answers)
        {
            var request = answer.Request;
            var keyed = HasRightKey(request);
            // As the endpoint reads them: the first value of each.
            var formatOk = FirstQueryValue(request, "format") is null or "json" or "csv" && FirstQueryValue(request, "lang") is null or "ja" or "en";
            var kind = CheckCommon(answer, problems, expectedMethod: "GET", canonical: keyed && plain.Contains(request) && request.Method == "GET" && IsShort(request));
            if (kind == "app")
            {
                if (!keyed)
                {
                    problems.Enqueue($"served without the function key: {answer}");
                }

                if (answer.Status == 200)
                {
                    kind = "200 export (well-formed)";
                    var csv = answer.ContentType?.StartsWith("text/csv", StringComparison.Ordinal) == true;
                    if (!formatOk || !(csv ? answer.Body.TrimStart('\uFEFF').Length > 0 : IsJsonObject(answer.Body)))
                    {
                        problems.Enqueue($"an export answered 200 for a bad format or with a bad body: {answer}");
                    }
                }
                else
                {
                    kind = "400 " + (answer.Body.Contains("member-id", StringComparison.Ordinal) ? "member-id" : "format");
                    CheckProblem(answer, 400, "https://cafetalk.com/problems/disclosures/", problems, prefixOnly: true);
                    if (plain.Contains(request) && formatOk)
                    {
                        problems.Enqueue($"a plain member id with a good format was refused: {answer}");
                    }
                }
            }

            outcomes.AddOrUpdate(kind, 1, (_, n) => n + 1);
        }

        CheckDiff(diff, [], problems);
        Report("GET /api/members/{memberId}/disclosures", answers, outcomes, elapsed, problems);
    }

    [Fact]
    public async Task UnroutedPathsAndMethods_FuzzedRequests_Get404Or405_AndChangeNothing()
    {
        await fixture.ResetAsync();
        var inputs = FuzzSettings.Inputs("http:unrouted",
            from method in Gen.Elements(HttpFuzzInputs.OtherMethods)
            from path in Gen.Frequency(
                (3, Gen.Elements("/", "/api", "/api/", "/api/zoom", "/api/zoom/webhook2", "/api/newsletter", "/api/newsletter/unsubscribe/x", "/api/calendar", "/api/members",
                    "/api/members//disclosures", "/api/members/a/b/disclosures", "/.env", "/admin", "/api/calendar/connect/../../../etc/passwd", "/api/%2e%2e/%2e%2e/x", "/favicon.ico")),
                (2, Junk.Text().Select(t => "/api/" + Uri.EscapeDataString(Utf8(Cap(t))))))
            from query in HttpFuzzInputs.Query(("x", HttpFuzzInputs.QueryJunk()))
            from body in Gen.Frequency((3, Gen.Constant<byte[]?>(null)), (1, Junk.RandomBytes().Select(b => (byte[]?)b)))
            from headers in HttpFuzzInputs.Headers()
            select new HttpFuzzRequest(method, path + query, headers, body, body is null ? null : "application/octet-stream", Kind: "unrouted"));
        var known = FunctionRoutes();
        var (answers, diff, elapsed) = await RunAsync([.. inputs.Where(r => !known.Any(k => RoutePath(r).Equals(k, StringComparison.OrdinalIgnoreCase)))]);
        var problems = new ConcurrentQueue<string>();
        var outcomes = new ConcurrentDictionary<string, int>();
        foreach (var answer in answers)
        {
            var kind = CheckCommon(answer, problems, canonical: false);
            if (kind == "app")
            {
                problems.Enqueue($"a path no function serves was answered by a function: {answer}");
            }

            outcomes.AddOrUpdate(kind, 1, (_, n) => n + 1);
        }

        CheckDiff(diff, [], problems);
        Report("unrouted paths and methods", answers, outcomes, elapsed, problems);
    }

    private async Task FuzzPreferenceRouteAsync(string stream, string route, string token, string subjectRef, SubscriptionStatus target)
    {
        var inputs = FuzzSettings.Inputs(stream,
            from method in HttpFuzzInputs.Method("POST")
            from path in HttpFuzzInputs.Path(route)
            from query in HttpFuzzInputs.Query(("t", TokenValues(token)), ("lang", Gen.Elements("ja", "en", "fr", "")))
            from body in HttpFuzzInputs.FormBodies()
            from headers in HttpFuzzInputs.Headers()
            select new HttpFuzzRequest(method, path + query, headers, body.Body, body.ContentType, body.Chunked, Kind: route));

        var (answers, diff, elapsed) = await RunAsync(inputs);
        var problems = new ConcurrentQueue<string>();
        var outcomes = new ConcurrentDictionary<string, int>();
        var tokens = fixture.Services.GetRequiredService<UnsubscribeTokens>();
        var unsubscribe = route == NewsletterFlow.UnsubscribeRoute;
        foreach (var answer in answers)
        {
            var request = answer.Request;
            var kind = CheckCommon(answer, problems, expectedMethod: "POST", canonical: IsCanonical(request, route, "POST"));
            if (kind != "app")
            {
                outcomes.AddOrUpdate(kind, 1, (_, n) => n + 1);
                continue;
            }

            var genuine = tokens.Verify(QueryValue(request, "t")) is not null;
            // What the page's form and a mail client's one-click send: these must work with the genuine link.
            var plainBody = request.ContentType == "application/x-www-form-urlencoded" && request.Body is { } body
                && Encoding.UTF8.GetString(body) is "List-Unsubscribe=One-Click" or "List-Unsubscribe=One-Click&source=page";
            if (answer.Status == 200)
            {
                kind = "200 done (genuine link)";
                CheckPage(answer, 200, unsubscribe ? "配信を停止しました|You are unsubscribed" : "配信を再開しました|You are subscribed again", problems);
                if (!genuine)
                {
                    problems.Enqueue($"a link that is not genuine changed a subscription: {answer}");
                }

                if (!unsubscribe)
                {
                    // Resubscribe needs the one-time confirmation our page issues, which no fuzzed request carries.
                    problems.Enqueue($"resubscribed without the page's confirmation: {answer}");
                }
            }
            else
            {
                kind = $"{answer.Status} refused";
                if (answer.Status is not (400 or 404 or 413 or 415) && !(answer.Status == 403 && !unsubscribe))
                {
                    problems.Enqueue($"unexpected status: {answer}");
                }

                if (genuine && plainBody && unsubscribe)
                {
                    problems.Enqueue($"the genuine link with a plain form body was refused: {answer}");
                }

                if (WantsHtml(request))
                {
                    CheckPage(answer, answer.Status, "<h1", problems);
                }
                else
                {
                    CheckProblem(answer, answer.Status, "https://cafetalk.com/problems/newsletter/", problems, prefixOnly: true);
                }
            }

            outcomes.AddOrUpdate(kind, 1, (_, n) => n + 1);
        }

        // The first genuine request changes the subscription once (state row + one consent-history row + one notice to the
        // mail service); every later one finds it already there and writes nothing.
        var changed = outcomes.ContainsKey("200 done (genuine link)");
        // A page showing the resubscribe button (after the page's own unsubscribe, or a GET of an unsubscribed link) stores its one-time confirmation.
        CheckDiff(diff, changed ? new Dictionary<string, int> { [QueueNames.MailSuppressions] = 1 } : [], problems,
            row => (changed && row.Table == TableNames.NewsletterSubscriptions && row.PartitionKey == subjectRef) || (row.Table == TableNames.FormTokens && row.Kind == "added"));
        var pages = answers.Count(a => a.Status == 200 && a.ContentType?.StartsWith("text/html", StringComparison.Ordinal) == true);
        if (diff.In(TableNames.FormTokens).Count() > pages)
        {
            problems.Enqueue($"{diff.In(TableNames.FormTokens).Count()} confirmations stored for {pages} pages shown");
        }
        if (changed && (diff.In(TableNames.NewsletterSubscriptions).Count(r => r.Kind == "added") != 1 || diff.In(TableNames.NewsletterSubscriptions).Count(r => r.Kind == "changed") != 1))
        {
            problems.Enqueue($"a genuine change wrote more or less than one state change and one history row: {diff}");
        }

        var status = (await fixture.Services.GetRequiredService<NewsletterSubscriptionStore>().GetAsync(subjectRef, NewsletterList))!.Status;
        if (status != (changed ? target : target == SubscriptionStatus.Subscribed ? SubscriptionStatus.Unsubscribed : SubscriptionStatus.Subscribed))
        {
            problems.Enqueue($"the subscription ended {status}");
        }

        Report($"POST /api/{route}", answers, outcomes, elapsed, problems);
    }

    /// <summary>Sends every request, 8 at a time, and compares the storage account, the simulators and the logs before and after.</summary>
    private async Task<(IReadOnlyList<Answer> Answers, StorageDiff Diff, TimeSpan Elapsed)> RunAsync(IReadOnlyList<HttpFuzzRequest> requests)
    {
        var before = await fixture.SnapshotAsync();
        var providerRequests = fixture.ProviderRequests;
        var logLines = fixture.Logs.Lines.Count;
        var answers = new Answer[requests.Count];
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, requests.Count), new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (i, _) =>
            answers[i] = await SendAsync(requests[i]));
        var elapsed = clock.Elapsed;
        var diff = (await fixture.SnapshotAsync()).Since(before);
        _providerRequestsMade = fixture.ProviderRequests - providerRequests;
        // CapturedLogs records every scope when it is opened, at any level: the framework's request scopes are not log lines.
        _plantedInLogs = [.. fixture.Logs.Lines.Skip(logLines).Where(l => Junk.HasMarker(l) && !l.StartsWith("Microsoft.AspNetCore.Hosting.Diagnostics scope:", StringComparison.Ordinal)).Take(5)];
        _serverErrors = [.. fixture.Logs.Lines.Skip(logLines).Where(l => l.Contains(" Error: ", StringComparison.Ordinal) || l.Contains(" Critical: ", StringComparison.Ordinal)).Take(5)];
        return (answers, diff, elapsed);
    }

    private async Task<Answer> SendAsync(HttpFuzzRequest request)
    {
        try
        {
            using var message = Build(request);
            using var response = await _http.SendAsync(message);
            var body = await response.Content.ReadAsStringAsync();
            var headers = string.Join("\n", response.Headers.Concat(response.Content.Headers).SelectMany(h => h.Value.Select(v => $"{h.Key}: {v}")));
            return new Answer(request, (int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), body, headers, null);
        }
        catch (Exception ex)
        {
            var inner = ex;
            while (inner.InnerException is not null)
            {
                inner = inner.InnerException;
            }

            return new Answer(request, 0, null, string.Empty, string.Empty, $"{ex.GetType().Name}: {inner.GetType().Name} {inner.Message}");
        }
    }

    private HttpRequestMessage Build(HttpFuzzRequest request)
    {
        var origin = fixture.Server.BaseUrl.GetLeftPart(UriPartial.Authority);
        var uri = new Uri(origin + request.PathAndQuery, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        var message = new HttpRequestMessage(new HttpMethod(request.Method), uri);
        foreach (var (name, value) in request.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        if (request.Body is { } body)
        {
            message.Content = new ByteArrayContent(body);
            if (request.ContentType is not null)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
            }

            // A server answers a body over its limit (1 MiB here) with 413 and then closes the connection: a client still
            // writing it sees the close, not the 413. So large bodies ask first (Expect: 100-continue, which is what a
            // well-behaved client does), never share a connection, and are only sent chunked up to what the server drains.
            if (body.Length > 64 * 1024)
            {
                message.Headers.ExpectContinue = true;
                message.Headers.ConnectionClose = true;
            }

            if (request.Chunked && body.Length <= 300 * 1024)
            {
                message.Headers.TransferEncodingChunked = true;
            }
        }

        Sign(request, message);
        return message;
    }

    /// <summary>Signs a webhook now, as Zoom would (or would not): the timestamp must be fresh when it is sent.</summary>
    private static void Sign(HttpFuzzRequest request, HttpRequestMessage message)
    {
        if (request.Signing is WebhookSigning.None or WebhookSigning.Junk)
        {
            return;
        }

        var now = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
        var seconds = request.Signing switch
        {
            WebhookSigning.Stale => now - 301 - (request.Body!.Length % 3600),
            WebhookSigning.Future => now + 301 + (request.Body!.Length % 3600),
            _ => now,
        };
        var timestamp = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var secret = request.Signing == WebhookSigning.WrongSecret ? "not-the-secret" : ZoomSimulator.WebhookSecretToken;
        var signature = "v0=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), (byte[])[.. Encoding.UTF8.GetBytes($"v0:{timestamp}:"), .. request.Body!]));
        if (request.Signing == WebhookSigning.Corrupted)
        {
            signature = (request.Body.Length % 4) switch
            {
                0 => signature.ToUpperInvariant(),
                1 => signature[..^1],
                2 => "v1=" + signature[3..],
                _ => signature[..10] + (signature[10] == 'a' ? 'b' : 'a') + signature[11..],
            };
        }

        if (request.Signing != WebhookSigning.SignatureOnly)
        {
            message.Headers.TryAddWithoutValidation(ZoomWebhookVerifier.TimestampHeader, timestamp);
        }

        if (request.Signing != WebhookSigning.TimestampOnly)
        {
            message.Headers.TryAddWithoutValidation(ZoomWebhookVerifier.SignatureHeader, signature);
        }
    }

    /// <summary>A request Kestrel refuses before reading it whole: a NUL or a control character in its target, or headers over 32 KiB.</summary>
    private static bool ServerMayCloseWhileSending(HttpFuzzRequest request) =>
        request.PathAndQuery.Contains("%00", StringComparison.Ordinal)
        || request.PathAndQuery.Any(c => c < 0x20 || c == ' ' || c == 0x7f)
        || request.Headers.Sum(h => System.Text.Encoding.UTF8.GetByteCount(h.Key) + System.Text.Encoding.UTF8.GetByteCount(h.Value) + 4) > 32 * 1024;

    /// <summary>
    /// What every answer must satisfy: no transport error, no 5xx, no planted value echoed in a refusal; returns
    /// "app" when the function answered, else the host-level answer ("host 404" ...). A canonical request must reach the function.
    /// </summary>
    private static string CheckCommon(Answer answer, ConcurrentQueue<string> problems, bool canonical, string? expectedMethod = null)
    {
        if (answer.Error is not null)
        {
            if (ServerMayCloseWhileSending(answer.Request) && answer.Error.Contains("SocketException", StringComparison.Ordinal))
            {
                // Kestrel refuses such a request on its first line or its headers and closes at once: a client still
                // writing sees the close, not the 400/431. Nothing reached the function, which the storage diff checks.
                return "host closed while sending";
            }

            problems.Enqueue($"transport error {answer.Error}: {answer.Request}");
            return "transport error";
        }

        if (answer.Status >= 500)
        {
            problems.Enqueue($"5xx: {answer}");
            return "5xx";
        }

        if (answer.Status >= 400 && (Junk.HasMarker(answer.Body) || Junk.HasMarker(answer.Headers)))
        {
            problems.Enqueue($"a planted value came back in a refusal: {answer}");
        }

        if (answer.IsHostLevel)
        {
            if (canonical && answer.Status != 401)
            {
                problems.Enqueue($"a well-formed request did not reach the function: {answer}");
            }

            return $"host {answer.Status}";
        }

        // Another method on the same path can be another function (GET and POST unsubscribe): it answers in its own form,
        // a page or a problem (a genuine link sent with GET to the POST route's address shows the confirmation page).
        if (expectedMethod is not null && answer.Request.Method != expectedMethod)
        {
            if (!(answer.ContentType?.StartsWith("text/html", StringComparison.Ordinal) == true
                || answer.ContentType?.StartsWith("application/problem+json", StringComparison.Ordinal) == true))
            {
                problems.Enqueue($"another method's function answered neither a page nor a problem: {answer}");
            }

            return $"{answer.Status} from the {answer.Request.Method} function";
        }

        return "app";
    }

    private static void CheckProblem(Answer answer, int status, string type, ConcurrentQueue<string> problems, bool prefixOnly = false)
    {
        if (answer.Status != status || answer.ContentType?.StartsWith("application/problem+json", StringComparison.Ordinal) != true)
        {
            problems.Enqueue($"expected {status} application/problem+json: {answer}");
            return;
        }

        try
        {
            using var json = JsonDocument.Parse(answer.Body);
            var actualType = json.RootElement.GetProperty("type").GetString() ?? string.Empty;
            if ((prefixOnly ? !actualType.StartsWith(type, StringComparison.Ordinal) : actualType != type) || json.RootElement.GetProperty("status").GetInt32() != status)
            {
                problems.Enqueue($"expected problem type {type}: {answer}");
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            problems.Enqueue($"not ProblemDetails: {answer}");
        }
    }

    /// <summary>A page in the language the request asked for (Accept-Language, or ?lang=), showing one of the texts in <paramref name="texts"/>.</summary>
    private static void CheckPage(Answer answer, int status, string texts, ConcurrentQueue<string> problems)
    {
        var language = Cafetalk.Integrations.Web.RequestLanguage.Choose(new StringValues([.. answer.Request.HeaderValues("Accept-Language")]), QueryValue(answer.Request, "lang"));
        if (answer.Status != status || answer.ContentType?.StartsWith("text/html", StringComparison.Ordinal) != true
            || !answer.Body.Contains($"<html lang=\"{language}\">", StringComparison.Ordinal)
            || !texts.Split('|').Any(t => answer.Body.Contains(t, StringComparison.Ordinal)))
        {
            problems.Enqueue($"expected a {status} page in '{language}' ({texts}): {answer}");
        }

        if (!answer.Headers.Contains("Cache-Control: no-store", StringComparison.OrdinalIgnoreCase))
        {
            problems.Enqueue($"a page without Cache-Control: no-store: {answer}");
        }
    }

    /// <summary>Nothing changed but what <paramref name="allowedRow"/> and <paramref name="queueDeltas"/> allow; no provider called; no planted value logged.</summary>
    private void CheckDiff(StorageDiff diff, Dictionary<string, int> queueDeltas, ConcurrentQueue<string> problems, Func<RowChange, bool>? allowedRow = null)
    {
        foreach (var row in diff.Rows.Where(r => allowedRow?.Invoke(r) != true).Take(5))
        {
            problems.Enqueue($"written: {row}");
        }

        foreach (var queue in diff.QueueDeltas.Keys.Union(queueDeltas.Keys).Where(q => diff.Delta(q) != queueDeltas.GetValueOrDefault(q)))
        {
            problems.Enqueue($"queue {queue} changed by {diff.Delta(queue)}, expected {queueDeltas.GetValueOrDefault(queue)}");
        }

        foreach (var blob in diff.Blobs.Take(5))
        {
            problems.Enqueue($"blob written: {blob}");
        }

        if (_providerRequestsMade != 0)
        {
            problems.Enqueue($"{_providerRequestsMade} provider request(s) were made");
        }

        foreach (var line in _plantedInLogs)
        {
            problems.Enqueue($"a log line carries a planted value: {FuzzSettings.Show(line)}");
        }
    }

    private static string CheckWebhookAccepted(Answer answer, ConcurrentQueue<string> problems)
    {
        try
        {
            using var json = JsonDocument.Parse(answer.Body);
            if (json.RootElement.TryGetProperty("encryptedToken", out var encrypted))
            {
                var plain = json.RootElement.GetProperty("plainToken").GetString()!;
                var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(ZoomSimulator.WebhookSecretToken), Encoding.UTF8.GetBytes(plain)));
                if (encrypted.GetString() != expected)
                {
                    problems.Enqueue($"url validation answered a wrong encryptedToken: {answer}");
                }

                return "200 url-validated";
            }

            return "200 " + json.RootElement.GetProperty("status").GetString();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            problems.Enqueue($"a 200 that is not the webhook's JSON answer: {answer}");
            return "200 ?";
        }
    }

    /// <summary>What the webhook put on zoom-events must be what the recording function accepts: it would otherwise be poisoned there.</summary>
    private async Task CheckEnqueuedZoomEventsAsync(ConcurrentQueue<string> problems)
    {
        var queue = fixture.Storage.Queue(QueueNames.ZoomEvents);
        while ((await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5))).Value is { Length: > 0 } batch)
        {
            foreach (var message in batch.Select(m => m.Body.ToString()))
            {
                if (ZoomEventMessage.TryParse(message) is not { } parsed || (parsed.Event == ZoomEventMessage.RecordingCompleted && parsed.MeetingId is null))
                {
                    problems.Enqueue($"the webhook enqueued a message the recording function refuses: {FuzzSettings.Show(message)}");
                }
            }
        }

        await queue.ClearMessagesAsync();
    }

    private void Report(string route, IReadOnlyList<Answer> answers, IDictionary<string, int> outcomes, TimeSpan elapsed, ConcurrentQueue<string> problems)
    {
        foreach (var line in _serverErrors)
        {
            problems.Enqueue($"the server logged: {FuzzSettings.Show(line)}");
            output.WriteLine(line);
        }

        output.WriteLine($"{route}: {answers.Count} requests in {elapsed.TotalSeconds:F1} s ({FuzzSettings.Replay}): " +
            string.Join(", ", outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}")));
        FuzzSettings.AssertNone(route, problems.ToList(), answers.Count);
    }

    /// <summary>A fresh account with one subscribed member; returns the member's genuine unsubscribe token and pseudonym.</summary>
    private async Task<(string Token, string SubjectRef)> SubscribeAsync(string memberId)
    {
        await fixture.ResetAsync();
        var subscriptions = fixture.Services.GetRequiredService<NewsletterSubscriptions>();
        await subscriptions.HandleEventAsync(SampleEvents.NewsletterSubscribed(memberId, $"{memberId}@example.jp", NewsletterList), null);
        var url = (await subscriptions.HeadersAsync(memberId, NewsletterList)).UnsubscribeUrl;
        var token = QueryHelpers.ParseQuery(new Uri(url).Query)["t"].ToString();
        var subjectRef = (await fixture.Services.GetRequiredService<SubjectRegistry>().FindAsync(memberId))!;
        return (token, subjectRef);
    }

    /// <summary>A fresh account with <paramref name="count"/> connects started over HTTP: each browser's state and cookie.</summary>
    private async Task<List<(string State, string Cookie)>> StartConnectsAsync(int count)
    {
        await fixture.ResetAsync();
        var tickets = fixture.Services.GetRequiredService<ConnectTickets>();
        var sessions = new List<(string, string)>();
        for (var i = 0; i < count; i++)
        {
            using var response = await _http.GetAsync(new Uri(fixture.Server.BaseUrl, $"api/{CalendarConnectFlow.ConnectRoute}?ticket={Uri.EscapeDataString(tickets.Issue($"lec_fuzz_{i}"))}"));
            var state = QueryHelpers.ParseQuery(response.Headers.Location!.Query)["state"].ToString();
            var cookie = response.Headers.GetValues("Set-Cookie").Single().Split(';')[0].Split('=', 2)[1];
            sessions.Add((state, cookie));
        }

        return sessions;
    }

    private static Gen<string> TokenValues(string token) => Gen.Frequency(
        (12, TokenMutations.Of(token).SelectMany(HttpFuzzInputs.QueryEncoded)),
        (1, HttpFuzzInputs.QueryEncoded(token)),
        (3, HttpFuzzInputs.QueryJunk()),
        (1, Gen.Constant(string.Empty)));

    private static Gen<string> TicketValues(string ticket) => Gen.Frequency(
        (8, TokenMutations.Of(ticket).SelectMany(HttpFuzzInputs.QueryEncoded)),
        (4, TokenMutations.OfTicketParts(ticket).SelectMany(HttpFuzzInputs.QueryEncoded)),
        (1, HttpFuzzInputs.QueryEncoded(ticket)),
        (3, HttpFuzzInputs.QueryJunk()));

    /// <summary>Where the function key goes: the header, ?code=, nowhere, or a wrong key.</summary>
    /// <summary>The privacy office's own key: the export needs it besides the function key the fuzzed placements carry.</summary>
    private KeyValuePair<string, string> PrivacyOfficeKey => new(PrivacyOfficeCredential.HeaderName, fixture.Sandbox.Settings()["PrivacyOffice:ApiKey"]!);

    private Gen<(string Query, List<KeyValuePair<string, string>> Headers)> KeyPlacement()
    {
        var key = fixture.Server.FunctionKey;
        return Gen.Frequency(
            (15, Gen.Constant((string.Empty, new List<KeyValuePair<string, string>> { new("x-functions-key", key) }))),
            (2, Gen.Constant(("?code=" + key, new List<KeyValuePair<string, string>>()))),
            (2, Gen.Constant((string.Empty, new List<KeyValuePair<string, string>>()))),
            (1, Gen.Elements(key.ToUpperInvariant(), key[..^1], key + "0", Junk.Marker, "").Select(k => (string.Empty, new List<KeyValuePair<string, string>> { new("x-functions-key", k) }))));
    }

    /// <summary>As the host checks it: the header if there is one, else the first <c>code</c> parameter.</summary>
    private bool HasRightKey(HttpFuzzRequest request) =>
        (request.Header("x-functions-key") ?? (QueryHelpers.ParseQuery(request.Query).TryGetValue("code", out var code) ? code.FirstOrDefault() : null)) == fixture.Server.FunctionKey;

    /// <summary>Appends <paramref name="parameter"/> (<c>?name=value</c> or empty) to a query string.</summary>
    private static string WithParameter(string query, string parameter) =>
        parameter.Length == 0 ? query : query.Length == 0 ? parameter : query + "&" + parameter[1..];

    /// <summary>The query value as the server reads it (<c>request.Query[name]</c> passed on as a string).</summary>
    private static string? QueryValue(HttpFuzzRequest request, string name) =>
        QueryHelpers.ParseQuery(request.Query).TryGetValue(name, out var value) ? (string?)value : null;

    private static string? FirstQueryValue(HttpFuzzRequest request, string name) =>
        QueryHelpers.ParseQuery(request.Query).TryGetValue(name, out var value) ? value.FirstOrDefault() : null;

    private static bool WantsHtml(HttpFuzzRequest request)
    {
        var headers = new HeaderDictionary { ["Accept"] = new StringValues([.. request.HeaderValues("Accept")]) };
        return new RequestHeaders(headers).Accept.Any(a => a.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase));
    }

    private static string? LecturerIdOf(byte[] body)
    {
        try
        {
            // As the endpoint reads it: from the request stream, where a UTF-8 byte order mark is skipped.
            using var json = JsonDocument.Parse(new MemoryStream(body));
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("lecturerId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static bool IsJsonObject(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The exact route path and the route's method, within Kestrel's limits: such a request must reach the function.</summary>
    private static bool IsCanonical(HttpFuzzRequest request, string route, string method) =>
        request.Method == method && RoutePath(request) == "/api/" + route && IsShort(request);

    /// <summary>Within Kestrel's 8 KiB request line and 32 KiB of headers, with room to spare.</summary>
    private static bool IsShort(HttpFuzzRequest request) =>
        request.PathAndQuery.Length < 4000 && request.Headers.Sum(h => h.Value.Length) < 4000
        && request.Headers.All(h => h.Value.All(c => c is '\t' or (>= ' ' and <= '~')));

    private static string RoutePath(HttpFuzzRequest request) =>
        request.PathAndQuery.Contains('?', StringComparison.Ordinal) ? request.PathAndQuery[..request.PathAndQuery.IndexOf('?', StringComparison.Ordinal)] : request.PathAndQuery;

    private static List<string> FunctionRoutes() =>
        [.. Cafetalk.Integrations.Cli.Serving.FunctionRouteTable.Read().Select(r => "/api/" + r.Route)];

    private static string Utf8(string text) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// At most 3,000 characters: with percent-encoding still past Kestrel's 8 KiB request line (414), but not a megabyte
    /// of URL, which the server refuses and closes on while the client is still writing it.
    /// </summary>
    private static string Cap(string text) => text.Length > 3000 ? text[..3000] : text;
}
