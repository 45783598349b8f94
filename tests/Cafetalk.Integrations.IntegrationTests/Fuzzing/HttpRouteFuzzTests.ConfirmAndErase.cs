using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Erasure;
using Cafetalk.Integrations.Fuzzing;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.Http;
using Cafetalk.Integrations.IntegrationTests.GoogleCalendar;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Web;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Fuzzing;

/// <summary>The two POST routes a person's click or an office's call changes something with: the replace confirmation and the erasure.</summary>
public sealed partial class HttpRouteFuzzTests
{
    [Fact]
    public async Task CalendarConfirmReplace_FuzzedForms_RefusedWith4xx_OnlyTheGenuineSameOriginConfirmationGoesToGoogle()
    {
        await fixture.ResetAsync();
        const string route = CalendarConnectFlow.ConnectRoute;
        const string lecturer = "lec_fuzz_replace";
        // A connection exists, so GET connect shows the confirmation page with its one-time token.
        await fixture.Services.GetRequiredService<CalendarConnections>().SaveAsync(lecturer, "refresh-fuzz-replace", "cal_fuzz_replace", "consent_fuzz_replace", TimeProvider.System.GetUtcNow());
        var tickets = fixture.Services.GetRequiredService<ConnectTickets>();
        var ticket = tickets.Issue(lecturer);
        using var page = await _http.GetAsync(new Uri(fixture.Server.BaseUrl, $"api/{route}?ticket={Uri.EscapeDataString(ticket)}"));
        var confirm = CalendarReconnectTests.ConfirmToken(await page.Content.ReadAsStringAsync())
            ?? throw new InvalidOperationException($"GET connect of a connected lecturer showed no confirmation form ({(int)page.StatusCode}).");
        var authority = fixture.Server.BaseUrl.Authority;

        var inputs = FuzzSettings.Inputs("http:calendar-confirm-replace",
            from method in HttpFuzzInputs.Method("POST")
            from path in HttpFuzzInputs.Path(route)
            from query in HttpFuzzInputs.Query(("lang", Gen.Elements("ja", "en", "fr", "")))
            from ticketValue in Gen.Frequency((4, Gen.Constant(ticket)), (4, TokenMutations.Of(ticket)), (2, TokenMutations.OfTicketParts(ticket)), (1, Junk.Text()))
            from confirmValue in Gen.Frequency((4, Gen.Constant(confirm)), (4, TokenMutations.Of(confirm)), (1, Junk.Text()), (1, Gen.Constant(string.Empty)))
            from shape in Gen.Frequency((8, Gen.Constant("both")), (1, Gen.Elements("ticket-only", "confirm-only", "twice", "junk", "none")), (1, Gen.Constant("large")))
            from junk in Junk.RandomBytes()
            from size in Gen.Elements(CalendarConnectFlow.MaxConfirmBodyBytes + 1, 64 * 1024, 1024 * 1024 + 10)
            from contentType in Gen.Frequency(
                (8, Gen.Constant<string?>("application/x-www-form-urlencoded")),
                (2, Gen.Elements<string?>(null, "text/plain", "application/json", "multipart/form-data; boundary=x", "APPLICATION/X-WWW-FORM-URLENCODED", "application/x-www-form-urlencoded; charset=utf-8", "")))
            from origin in Gen.Frequency(
                (6, Gen.Constant<(string, string)[]>([("Sec-Fetch-Site", "same-origin")])),
                (2, Gen.Constant<(string, string)[]>([("Origin", "http://" + authority)])),
                (1, Gen.Elements<(string, string)[]>(
                    [("Sec-Fetch-Site", "cross-site"), ("Origin", "https://evil.example")],
                    [("Sec-Fetch-Site", "same-site")],
                    [("Origin", "https://" + Junk.Marker + ".example")],
                    [("Origin", "http://" + authority + ".evil.example")],
                    [("Sec-Fetch-Site", "none"), ("Origin", "http://" + authority)],
                    [])),
                (1, HttpFuzzInputs.HeaderSafe().Select(v => new[] { ("Sec-Fetch-Site", v) })))
            from chunked in Gen.Frequency((9, Gen.Constant(false)), (1, Gen.Constant(true)))
            from headers in HttpFuzzInputs.Headers()
            let form = $"ticket={Uri.EscapeDataString(Utf8(Cap(ticketValue)))}&confirm={Uri.EscapeDataString(Utf8(Cap(confirmValue)))}"
            let body = shape switch
            {
                "both" => Encoding.UTF8.GetBytes(form),
                "ticket-only" => Encoding.UTF8.GetBytes(form[..form.IndexOf("&confirm=", StringComparison.Ordinal)]),
                "confirm-only" => Encoding.UTF8.GetBytes(form[(form.IndexOf("&confirm=", StringComparison.Ordinal) + 1)..]),
                "twice" => Encoding.UTF8.GetBytes(form + "&confirm=" + confirm),
                "junk" => junk,
                "large" => HttpFuzzInputs.Large(form + "&pad=", 'p', size),
                _ => null,
            }
            select new HttpFuzzRequest(method, path + query, [.. headers, .. origin.Select(h => new KeyValuePair<string, string>(h.Item1, h.Item2))],
                body, body is null ? null : contentType, chunked, Kind: "confirm-replace"));

        var (answers, diff, elapsed) = await RunAsync(inputs);
        var problems = new ConcurrentQueue<string>();
        var outcomes = new ConcurrentDictionary<string, int>();
        var consentUrl = fixture.Sandbox.Google.BaseAddress + "o/oauth2/v2/auth?";
        var genuineSent = 0;
        foreach (var answer in answers)
        {
            var request = answer.Request;
            var kind = CheckCommon(answer, problems, expectedMethod: "POST", canonical: IsCanonical(request, route, "POST") && (request.Body?.Length ?? 0) <= 1024 * 1024);
            if (kind != "app")
            {
                outcomes.AddOrUpdate(kind, 1, (_, n) => n + 1);
                continue;
            }

            // In the endpoint's order: size, origin, content type, ticket, one-time token.
            // The fields as the form reader (urlencoded or multipart, the route's limits) reads them; an unreadable form has none.
            var form = await ReadFormAsServerDoes(request);
            var ticketOk = form.Outcome == PostedFormOutcome.Read && form["ticket"] is { } t && tickets.Read(t) is not null;
            var tokenOk = form.Outcome == PostedFormOutcome.Read && form["confirm"] == confirm;
            if ((request.Body?.Length ?? 0) > CalendarConnectFlow.MaxConfirmBodyBytes)
            {
                kind = "413 too-large";
                CheckProblem(answer, 413, "https://cafetalk.com/problems/calendar/too-large", problems);
            }
            else if (!IsSameOrigin(request))
            {
                kind = "403 not our page";
                CheckPage(answer, 403, "確認を受け付けられませんでした|The confirmation could not be accepted", problems);
            }
            else if (!HasFormContentType(request))
            {
                kind = "415 not a form";
                CheckPage(answer, 415, "確認を受け付けられませんでした|The confirmation could not be accepted", problems);
            }
            else if (!ticketOk)
            {
                kind = "400 invalid-link page";
                CheckPage(answer, 400, "このリンクは無効です|This link is not valid", problems);
            }
            else if (tokenOk && answer.Status == 303)
            {
                genuineSent++;
                kind = "303 to Google (genuine confirmation)";
                if (!answer.Headers.Contains("Location: " + consentUrl, StringComparison.Ordinal) || !answer.Headers.Contains("__Host-cafetalk-calendar=", StringComparison.Ordinal))
                {
                    problems.Enqueue($"a genuine confirmation did not send the browser to Google with its cookie: {answer}");
                }
            }
            else
            {
                genuineSent += tokenOk ? 1 : 0;
                kind = tokenOk ? "403 token already used" : "403 wrong token";
                CheckPage(answer, 403, "確認を受け付けられませんでした|The confirmation could not be accepted", problems);
            }

            if (answer.Status == 303 && kind != "303 to Google (genuine confirmation)")
            {
                problems.Enqueue($"sent to Google without a genuine same-origin confirmation: {answer}");
            }

            outcomes.AddOrUpdate(kind, 1, (_, n) => n + 1);
        }

        // The token works once: the first genuine confirmation spends it (its row deleted) and saves one state; no other write.
        var started = outcomes.GetValueOrDefault("303 to Google (genuine confirmation)");
        if (started != (genuineSent > 0 ? 1 : 0))
        {
            problems.Enqueue($"{started} confirmations went to Google for {genuineSent} genuine ones sent (expected exactly one): "
                + string.Join(" | ", answers.Where(a => a.Status == 303).Select(a => a.ToString())));
        }

        CheckDiff(diff, [], problems, row => (row.Table == TableNames.CalendarConnectStates && row.Kind == "added") || (row.Table == TableNames.FormTokens && row.Kind == "deleted"));
        if (diff.In(TableNames.CalendarConnectStates).Count() != started || diff.In(TableNames.FormTokens).Count() != started)
        {
            problems.Enqueue($"{diff.In(TableNames.CalendarConnectStates).Count()} states saved and {diff.In(TableNames.FormTokens).Count()} tokens spent for {started} confirmations");
        }

        Report("POST /api/calendar/connect", answers, outcomes, elapsed, problems);
    }

    [Fact]
    public async Task MemberErasure_FuzzedIdsKeysAndBodies_RefusedWith4xxProblems_OnlyThePrivacyOfficesWellFormedRequestIsQueued()
    {
        await fixture.ResetAsync();
        var officeKey = PrivacyOfficeKey.Value;
        var segments = Gen.Frequency(
            (4, QueueMessages.ValidId().Select(id => (Raw: id, Plain: true))),
            (2, Junk.Text().Select(t => (Raw: Uri.EscapeDataString(Utf8(Cap(t))), Plain: false))),
            (1, Gen.Elements("", ".", "..", "%2E%2E", "a%2Fb", "_a", "-", "a%00", "%ZZ", "a;b", "a b", new string('m', 65), Junk.Marker).Select(s => (Raw: s, Plain: false))));
        // The privacy office's key: right, absent, near misses, twice, the function key instead, or in the query (never read there).
        var officeKeys = Gen.Frequency(
            (12, Gen.Constant((Header: (string[])[officeKey], Query: string.Empty))),
            (2, Gen.Constant((Header: (string[])[], Query: string.Empty))),
            (1, Gen.Constant((Header: (string[])[], Query: $"{PrivacyOfficeCredential.HeaderName}={Uri.EscapeDataString(officeKey)}"))),
            (2, Gen.Elements<string[]>([officeKey.ToUpperInvariant()], [officeKey[..^1]], [officeKey + "0"], [" " + officeKey], [Junk.Marker], [""], [officeKey, officeKey], [officeKey + "," + officeKey], [fixture.Server.FunctionKey])
                .Select(h => (Header: h, Query: string.Empty))));
        var inputs = FuzzSettings.Inputs("http:member-erasure",
            from method in HttpFuzzInputs.Method("POST")
            from segment in segments
            from key in KeyPlacement()
            from office in officeKeys
            from requestId in Gen.Frequency((6, QueueMessages.ValidId()), (2, HttpFuzzInputs.QueryJunk()), (1, Gen.Elements("", new string('r', 65), Junk.Marker, "a%2Fb", "a.b")))
            from query in HttpFuzzInputs.Query(("requestId", Gen.Constant(requestId)), ("lang", Gen.Elements("ja", "en", "")))
            from body in Gen.Frequency(
                (6, Gen.Constant<byte[]?>(null)),
                (2, Junk.AnyText().Select(t => (byte[]?)Encoding.UTF8.GetBytes(t))),
                (1, Gen.Elements(MemberErasureFlow.MaxBodyBytes + 1, 4096, 64 * 1024, 1024 * 1024 + 10).Select(size => (byte[]?)HttpFuzzInputs.Large("{\"memberId\":\"", 'e', size))))
            from contentType in Gen.Elements<string?>("application/json", null, "text/plain", "application/x-www-form-urlencoded")
            from chunked in Gen.Frequency((9, Gen.Constant(false)), (1, Gen.Constant(true)))
            from headers in HttpFuzzInputs.Headers()
            let officeHeaders = office.Header.Select(v => new KeyValuePair<string, string>(PrivacyOfficeCredential.HeaderName, v))
            let fullQuery = WithParameter(WithParameter(query, key.Query), office.Query.Length == 0 ? string.Empty : "?" + office.Query)
            select (Request: new HttpFuzzRequest(method, $"/api/members/{segment.Raw}/erasure{fullQuery}", [.. headers, .. key.Headers, .. officeHeaders],
                body, body is null ? null : contentType, chunked, Kind: "erasure"), segment.Plain));

        var (answers, diff, elapsed) = await RunAsync([.. inputs.Select(i => i.Request)]);
        var plain = inputs.Where(i => i.Plain).Select(i => i.Request).ToHashSet();
        var problems = new ConcurrentQueue<string>();
        var outcomes = new ConcurrentDictionary<string, int>();
        var queued = new List<(string MemberId, string RequestId)>();
        foreach (var answer in answers)
        {
            var request = answer.Request;
            var keyed = HasRightKey(request);
            var bodyLength = request.Body?.Length ?? 0;
            var kind = CheckCommon(answer, problems, expectedMethod: "POST",
                canonical: keyed && plain.Contains(request) && request.Method == "POST" && IsShort(request) && bodyLength <= 1024 * 1024);
            if (kind != "app")
            {
                outcomes.AddOrUpdate(kind, 1, (_, n) => n + 1);
                continue;
            }

            if (!keyed)
            {
                problems.Enqueue($"served without the function key: {answer}");
            }

            // In the endpoint's order: body size, the office's key, then the member id and requestId.
            // HTTP drops a field value's leading and trailing spaces (RFC 9110 5.5): " key" is the key.
            var officeOk = request.HeaderValues(PrivacyOfficeCredential.HeaderName).ToList() is [{ } presented] && presented.Trim(' ', '\t') == officeKey;
            var requestId = FirstQueryValue(request, "requestId");
            var memberId = MemberIdOf(request);
            if (bodyLength > MemberErasureFlow.MaxBodyBytes)
            {
                kind = "413 too-large";
                CheckProblem(answer, 413, "https://cafetalk.com/problems/erasure/too-large", problems);
            }
            else if (!officeOk)
            {
                kind = "401 privacy-office-credential";
                CheckProblem(answer, 401, "https://cafetalk.com/problems/erasure/privacy-office-credential", problems);
            }
            else if (answer.Status == 202)
            {
                kind = "202 queued";
                if (!TableKeys.IsValidId(requestId) || (plain.Contains(request) ? !TableKeys.IsValidId(memberId) : !TableKeys.IsValidId(Uri.UnescapeDataString(request.PathAndQuery.Split('/')[3]))))
                {
                    problems.Enqueue($"queued an erasure for an id that is not valid: {answer}");
                }

                if (JsonNode.Parse(answer.Body) is not JsonObject accepted || accepted["requestId"]?.GetValue<string>() != requestId || accepted["status"]?.GetValue<string>() != "queued")
                {
                    problems.Enqueue($"a 202 that does not name the request as queued: {answer}");
                }

                queued.Add((plain.Contains(request) ? memberId! : Uri.UnescapeDataString(request.PathAndQuery.Split('/')[3]), requestId!));
            }
            else
            {
                kind = "400 member-id";
                CheckProblem(answer, 400, "https://cafetalk.com/problems/erasure/member-id", problems);
                if (plain.Contains(request) && TableKeys.IsValidId(requestId))
                {
                    problems.Enqueue($"the office's well-formed erasure was refused: {answer}");
                }
            }

            outcomes.AddOrUpdate(kind, 1, (_, n) => n + 1);
        }

        // Each 202 put exactly one erasure request on the queue, for that member and requestId; nothing else is written.
        CheckDiff(diff, new Dictionary<string, int> { [QueueNames.ErasureRequests] = queued.Count }, problems);
        var onQueue = new List<(string, string)>();
        var queue = fixture.Storage.Queue(QueueNames.ErasureRequests);
        while ((await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5))).Value is { Length: > 0 } batch)
        {
            foreach (var message in batch)
            {
                var data = JsonNode.Parse(message.Body.ToString())?["data"];
                onQueue.Add((data?["memberId"]?.GetValue<string>() ?? "?", data?["requestId"]?.GetValue<string>() ?? "?"));
            }
        }

        await queue.ClearMessagesAsync();
        if (!onQueue.Order().SequenceEqual(queued.Order()))
        {
            problems.Enqueue($"the erasure queue holds {onQueue.Count} requests, not the {queued.Count} the 202s named");
        }

        Report("POST /api/members/{memberId}/erasure", answers, outcomes, elapsed, problems);
    }

    /// <summary>As <see cref="SameOriginRequests"/> reads the request, with the server's host.</summary>
    private bool IsSameOrigin(HttpFuzzRequest request) => SameOriginRequests.IsSameOrigin(AsServerSees(request));

    private bool HasFormContentType(HttpFuzzRequest request) => AsServerSees(request).HasFormContentType;

    private Task<PostedForm> ReadFormAsServerDoes(HttpFuzzRequest request)
    {
        var seen = AsServerSees(request);
        seen.Body = new MemoryStream(request.Body ?? []);
        seen.ContentLength = request.Body?.Length ?? 0;
        return PostedForms.ReadAsync(seen, CalendarConnectFlow.MaxConfirmBodyBytes, TimeProvider.System, CancellationToken.None);
    }

    private HttpRequest AsServerSees(HttpFuzzRequest request)
    {
        var context = new DefaultHttpContext();
        context.Request.Host = new HostString(fixture.Server.BaseUrl.Authority);
        foreach (var group in request.Headers.GroupBy(h => h.Key, StringComparer.OrdinalIgnoreCase))
        {
            context.Request.Headers[group.Key] = new Microsoft.Extensions.Primitives.StringValues([.. group.Select(h => h.Value)]);
        }

        context.Request.ContentType = request.Body is null ? null : request.ContentType;
        return context.Request;
    }

    /// <summary>The member id of a plain path segment (no escapes), as the route binds it.</summary>
    private static string? MemberIdOf(HttpFuzzRequest request) =>
        RoutePath(request).Split('/') is [_, "api", "members", var id, "erasure"] ? id : null;
}
