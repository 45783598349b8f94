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
/// A loopback stand-in for a SendGrid-style mail service: suppression groups (ASM) with add, remove and list,
/// bearer-key authentication, validation of the body shape, an injectable outage, and a record of every request.
/// </summary>
public sealed class MailServiceSimulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<int, ConcurrentDictionary<string, byte>> _groups = new();
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
        _groups.TryGetValue(groupId, out var group) ? group.Keys.ToHashSet(StringComparer.OrdinalIgnoreCase) : new HashSet<string>();

    /// <summary>Suppresses an address as the service itself would (the member used the service's own link).</summary>
    public void SuppressDirectly(int groupId, string email) => Group(groupId)[email.ToLowerInvariant()] = 0;

    /// <summary>The seeded fault plan (off until enabled): every API request is eligible.</summary>
    public SimulatorFaults Faults { get; } = new((_, _) => true);

    /// <summary>The next <paramref name="count"/> API calls answer 503, as during an outage.</summary>
    public void FailNext(int count) => Interlocked.Exchange(ref _failNext, count);

    public void ClearRequests() => _requests.Clear();

    private ConcurrentDictionary<string, byte> Group(int groupId) => _groups.GetOrAdd(groupId, _ => new(StringComparer.OrdinalIgnoreCase));

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
        // v3/asm/groups/{id}/suppressions[/{email}]
        if (segments.Length < 5 || segments[0] != "v3" || segments[1] != "asm" || segments[2] != "groups" || segments[4] != "suppressions"
            || !int.TryParse(segments[3], out var groupId))
        {
            answer = Errors("not found");
            return StatusCodes.Status404NotFound;
        }

        var group = Group(groupId);
        switch (request.Method, segments.Length)
        {
            case ("GET", 5):
                answer = new JsonArray(group.Keys.Order(StringComparer.Ordinal).Select(e => (JsonNode?)JsonValue.Create(e)).ToArray());
                return StatusCodes.Status200OK;
            case ("POST", 5):
                if (!TryReadRecipients(body, out var emails))
                {
                    answer = Errors("body must be {\"recipient_emails\": [\"...\"]} and nothing else");
                    return StatusCodes.Status400BadRequest;
                }

                foreach (var email in emails)
                {
                    group[email.ToLowerInvariant()] = 0;
                }

                answer = new JsonObject { ["recipient_emails"] = new JsonArray(emails.Select(e => (JsonNode?)JsonValue.Create(e)).ToArray()) };
                return StatusCodes.Status201Created;
            case ("DELETE", 6):
                var address = Uri.UnescapeDataString(segments[5]);
                return group.TryRemove(address.ToLowerInvariant(), out _) ? StatusCodes.Status204NoContent : StatusCodes.Status404NotFound;
            default:
                answer = Errors("method not allowed");
                return StatusCodes.Status405MethodNotAllowed;
        }
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
