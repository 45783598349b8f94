using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Sandbox.Mail;

/// <summary>One request the mail simulator received, Authorization left out.</summary>
public sealed record RecordedMailRequest(DateTimeOffset ReceivedAtUtc, string Method, string Path, string Query, string Body, int Status);

/// <summary>
/// A loopback stand-in for SendGrid's suppressions API (ASM, contract in Contracts/sendgrid.contract.json): groups
/// that exist only once created, add, remove and list per group, the group list, bearer-key authentication,
/// validation of the body shape, an injectable outage, and a record of every request. As the spec states, an
/// address added to a group that does not exist lands on the global suppression list.
/// </summary>
public sealed class MailServiceSimulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<int, SimulatedGroup> _groups = new();
    private readonly ConcurrentDictionary<string, byte> _global = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<RecordedMailRequest> _requests = new();
    private int _failNext;

    private MailServiceSimulator(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The API key the simulator accepts; random per run.</summary>
    public string ApiKey { get; } = "SG." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public IReadOnlyList<RecordedMailRequest> Requests => [.. _requests];

    public static async Task<MailServiceSimulator> StartAsync(CancellationToken cancellationToken = default)
    {
        var app = LoopbackHost.Create();
        var simulator = new MailServiceSimulator(app);
        simulator.BaseAddress = await LoopbackHost.StartAsync(app, "sendgrid", simulator.HandleAsync, cancellationToken);
        return simulator;
    }

    public IReadOnlyDictionary<string, string?> Settings() => new Dictionary<string, string?>
    {
        ["MailService:BaseAddress"] = BaseAddress.ToString(),
        ["MailService:ApiKey"] = ApiKey,
    };

    /// <summary>The addresses suppressed in a group now.</summary>
    public IReadOnlySet<string> Suppressed(int groupId) =>
        _groups.TryGetValue(groupId, out var group) ? group.Members.Keys.ToHashSet(StringComparer.OrdinalIgnoreCase) : new HashSet<string>();

    /// <summary>The addresses on the account's global suppression list: no mail of any group reaches them.</summary>
    public IReadOnlySet<string> GloballySuppressed => _global.Keys.ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates a suppression group, as an operator does in SendGrid's console; only created groups exist.</summary>
    public void CreateGroup(int groupId, string name) => _groups.TryAdd(groupId, new SimulatedGroup(name));

    /// <summary>Deletes a group, as an operator can in the console; its suppressions go with it.</summary>
    public void DeleteGroup(int groupId) => _groups.TryRemove(groupId, out _);

    /// <summary>
    /// What a read or removal on a group that does not exist answers: the spec documents only success for these,
    /// so the simulator offers both 404 (default) and an empty answer (an empty list, 204).
    /// </summary>
    public bool UnknownGroupReadsAsEmpty { get; set; }

    /// <summary>What removing an address an existing group does not hold answers (fact <c>absent-address-removal-unspecified</c>): 404 (default) or 204.</summary>
    public bool AbsentAddressRemovalAnswers204 { get; set; }

    /// <summary>Suppresses an address as the service itself would (the member used the service's own link); without the group, globally.</summary>
    public void SuppressDirectly(int groupId, string email) =>
        (_groups.TryGetValue(groupId, out var group) ? group.Members : _global)[email.ToLowerInvariant()] = 0;

    /// <summary>The seeded fault plan (off until enabled): every API request is eligible.</summary>
    public SimulatorFaults Faults { get; } = new((_, _) => true);

    /// <summary>The next <paramref name="count"/> API calls answer 503, as during an outage.</summary>
    public void FailNext(int count) => Interlocked.Exchange(ref _failNext, count);

    public void ClearRequests() => _requests.Clear();

    private sealed record SimulatedGroup(string Name)
    {
        public ConcurrentDictionary<string, byte> Members { get; } = new(StringComparer.OrdinalIgnoreCase);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var body = await new StreamReader(request.Body).ReadToEndAsync(context.RequestAborted);
        var arrivedAt = TimeProvider.System.GetUtcNow();
        var fault = Faults.Next(request.Method, request.Path.Value ?? string.Empty);
        if (SimulatorFaults.FailsBeforeWork(fault))
        {
            _requests.Enqueue(new RecordedMailRequest(arrivedAt, request.Method, request.Path.Value ?? string.Empty, request.QueryString.Value ?? string.Empty, body, SimulatorFaults.StatusOf(fault)));
            await Faults.RespondAsync(context, fault, body: Errors("injected fault"));
            return;
        }

        var status = Handle(context, request, body, out var answer);
        _requests.Enqueue(new RecordedMailRequest(arrivedAt, request.Method, request.Path.Value ?? string.Empty, request.QueryString.Value ?? string.Empty, body, fault == SimulatedFault.None ? status : SimulatorFaults.StatusOf(fault)));
        if (fault != SimulatedFault.None)
        {
            // The work is done; the client is told otherwise.
            await Faults.RespondAsync(context, fault, body: Errors("injected fault"));
            return;
        }
        context.Response.StatusCode = status;
        if (answer is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer.ToJsonString(), context.RequestAborted);
        }
    }

    private int Handle(HttpContext context, HttpRequest request, string body, out JsonNode? answer)
    {
        answer = null;
        if (request.Headers.Authorization != $"Bearer {ApiKey}")
        {
            answer = Errors("authorization required");
            return StatusCodes.Status401Unauthorized;
        }

        if (Interlocked.Decrement(ref _failNext) >= 0)
        {
            answer = Errors("service unavailable");
            return StatusCodes.Status503ServiceUnavailable;
        }

        Interlocked.Exchange(ref _failNext, 0);
        var segments = (request.Path.Value ?? string.Empty).Trim('/').Split('/');
        if (request.Method == "GET" && segments is ["v3", "asm", "groups"])
        {
            answer = ListGroups(request.Query["id"]);
            return StatusCodes.Status200OK;
        }

        // v3/asm/groups/{id}/suppressions[/{email}]
        if (segments.Length < 5 || segments[0] != "v3" || segments[1] != "asm" || segments[2] != "groups" || segments[4] != "suppressions"
            || !int.TryParse(segments[3], out var groupId))
        {
            answer = Errors("not found");
            return StatusCodes.Status404NotFound;
        }

        _groups.TryGetValue(groupId, out var existing);
        var group = existing?.Members;
        switch (request.Method, segments.Length)
        {
            case ("GET" or "DELETE", _) when group is null:
                answer = UnknownGroupReadsAsEmpty && request.Method == "GET" ? new JsonArray() : UnknownGroupReadsAsEmpty ? null : Errors("resource not found");
                return UnknownGroupReadsAsEmpty ? (request.Method == "GET" ? StatusCodes.Status200OK : StatusCodes.Status204NoContent) : StatusCodes.Status404NotFound;
            case ("GET", 5):
                answer = new JsonArray(group!.Keys.Order(StringComparer.Ordinal).Select(e => (JsonNode?)JsonValue.Create(e)).ToArray());
                return StatusCodes.Status200OK;
            case ("POST", 5):
                if (!TryReadRecipients(body, out var emails))
                {
                    answer = Errors("body must be {\"recipient_emails\": [\"...\"]} and nothing else");
                    return StatusCodes.Status400BadRequest;
                }

                foreach (var email in emails)
                {
                    // sendgrid.contract.json fact unknown-group-suppresses-globally.
                    (group ?? _global)[email.ToLowerInvariant()] = 0;
                }

                answer = new JsonObject { ["recipient_emails"] = new JsonArray(emails.Select(e => (JsonNode?)JsonValue.Create(e)).ToArray()) };
                return StatusCodes.Status201Created;
            case ("DELETE", 6):
                var address = Uri.UnescapeDataString(segments[5]);
                return group!.TryRemove(address.ToLowerInvariant(), out _) || AbsentAddressRemovalAnswers204 ? StatusCodes.Status204NoContent : StatusCodes.Status404NotFound;
            default:
                answer = Errors("method not allowed");
                return StatusCodes.Status405MethodNotAllowed;
        }
    }

    /// <summary>The SuppressionGroup objects of every group, or of those named by repeated <c>?id=</c>.</summary>
    private JsonArray ListGroups(Microsoft.Extensions.Primitives.StringValues ids)
    {
        var wanted = ids.Select(i => int.TryParse(i, out var id) ? id : (int?)null).OfType<int>().ToHashSet();
        return new JsonArray([.. _groups.Where(g => ids.Count == 0 || wanted.Contains(g.Key)).OrderBy(g => g.Key).Select(g => (JsonNode)new JsonObject
        {
            ["id"] = g.Key, ["name"] = g.Value.Name, ["description"] = g.Value.Name, ["is_default"] = false, ["unsubscribes"] = g.Value.Members.Count,
        })]);
    }

    private static bool TryReadRecipients(string body, out List<string> emails)
    {
        emails = [];
        try
        {
            if (JsonNode.Parse(body) is not JsonObject root || root.Count != 1 || root["recipient_emails"] is not JsonArray list || list.Count == 0)
            {
                return false;
            }

            foreach (var item in list)
            {
                if (item?.GetValueKind() != JsonValueKind.String || !item.GetValue<string>().Contains('@', StringComparison.Ordinal))
                {
                    return false;
                }

                emails.Add(item.GetValue<string>());
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static JsonObject Errors(string message) => new() { ["errors"] = new JsonArray(new JsonObject { ["message"] = message }) };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
