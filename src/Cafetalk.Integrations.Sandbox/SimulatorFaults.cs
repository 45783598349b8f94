using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Cafetalk.Integrations.Sandbox;

/// <summary>How a simulator answers one request under a fault plan.</summary>
public enum SimulatedFault
{
    None,
    /// <summary>500 before doing anything.</summary>
    InternalServerError,
    /// <summary>503 before doing anything.</summary>
    ServiceUnavailable,
    /// <summary>No answer until the client gives up (or <see cref="SimulatorFaults.Hang"/> passes), nothing done.</summary>
    Timeout,
    /// <summary>429 before doing anything (a per-second limit, never a daily one).</summary>
    TooManyRequests,
    /// <summary>The work is done (a create exists, an update landed), then 500: the client never learns it.</summary>
    CommitThenInternalServerError,
    /// <summary>The work is done, then no answer until the client gives up.</summary>
    CommitThenTimeout,
}

/// <summary>What a simulator does with one notification it sends out (a push the provider makes to our webhook).</summary>
public enum NotificationFault
{
    Deliver,
    /// <summary>Never sent: the receiver must not depend on every notification arriving.</summary>
    Drop,
    /// <summary>Sent twice, as an at-least-once sender may.</summary>
    Repeat,
}

/// <summary>
/// A seeded fault plan a simulator consults for each request: off by default; once enabled, a share of the eligible
/// requests (by a seeded draw in arrival order) is answered 500, 503, 429, a hang past the client's timeout, or — for
/// requests that change something — the work is done and then 500 or a hang. The kinds take turns (reads and changes
/// each in their own rotation), so every kind is injected once a few requests have failed. One type for every
/// simulator, so the fault suite reads the same figures from each.
/// </summary>
public sealed class SimulatorFaults
{
    private static readonly SimulatedFault[] ChangeKinds =
    [
        SimulatedFault.InternalServerError, SimulatedFault.ServiceUnavailable, SimulatedFault.Timeout,
        SimulatedFault.TooManyRequests, SimulatedFault.CommitThenInternalServerError, SimulatedFault.CommitThenTimeout,
    ];

    // A read has nothing to commit: it can only fail before the work.
    private static readonly SimulatedFault[] ReadKinds = ChangeKinds[..4];

    private readonly Lock _gate = new();
    private readonly Dictionary<SimulatedFault, int> _counts = [];
    private Random? _random;
    private double _rate;
    private readonly Func<string, string, bool> _eligibleByDefault;
    private Func<string, string, bool> _eligible;
    private int _eligibleSeen;
    private int _changesFaulted;
    private int _readsFaulted;

    /// <summary>A plan for a simulator whose requests <paramref name="eligibleByDefault"/> (method, path) may be faulted.</summary>
    public SimulatorFaults(Func<string, string, bool> eligibleByDefault)
    {
        _eligibleByDefault = eligibleByDefault;
        _eligible = eligibleByDefault;
    }

    /// <summary>How long a hang lasts when the client does not give up first.</summary>
    public TimeSpan Hang { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Answers <paramref name="rate"/> of the eligible requests with a fault, drawn from <paramref name="seed"/>; <paramref name="eligible"/> (method, path) narrows the default.</summary>
    public void Enable(int seed, double rate, Func<string, string, bool>? eligible = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rate, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rate, 1);
        lock (_gate)
        {
            _random = new Random(seed);
            _rate = rate;
            (_eligibleSeen, _changesFaulted, _readsFaulted) = (0, 0, 0);
            _counts.Clear();
            _eligible = eligible is null ? _eligibleByDefault : (method, path) => _eligibleByDefault(method, path) && eligible(method, path);
        }
    }

    public void Disable()
    {
        lock (_gate)
        {
            _random = null;
        }
    }

    public bool Enabled
    {
        get
        {
            lock (_gate)
            {
                return _random is not null;
            }
        }
    }

    /// <summary>Eligible requests seen while enabled.</summary>
    public int EligibleCount
    {
        get
        {
            lock (_gate)
            {
                return _eligibleSeen;
            }
        }
    }

    /// <summary>Faults answered so far, by kind.</summary>
    public IReadOnlyDictionary<SimulatedFault, int> Counts
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<SimulatedFault, int>(_counts);
            }
        }
    }

    public int FaultedCount => Counts.Values.Sum();

    /// <summary>The fault for this request (drawn once, in arrival order); None when the plan is off or the request is not eligible.</summary>
    public SimulatedFault Next(string method, string path)
    {
        lock (_gate)
        {
            if (_random is null || !_eligible(method, path))
            {
                return SimulatedFault.None;
            }

            _eligibleSeen++;
            if (_random.NextDouble() >= _rate)
            {
                return SimulatedFault.None;
            }

            // Which request fails is drawn; its kind goes round in turn, so every kind shows up in a short run.
            var kind = Changes(method) ? ChangeKinds[_changesFaulted++ % ChangeKinds.Length] : ReadKinds[_readsFaulted++ % ReadKinds.Length];
            _counts[kind] = _counts.GetValueOrDefault(kind) + 1;
            return kind;
        }
    }

    /// <summary>True for faults answered instead of the work; false for none and for commit-then-fail.</summary>
    public static bool FailsBeforeWork(SimulatedFault fault) =>
        fault is SimulatedFault.InternalServerError or SimulatedFault.ServiceUnavailable or SimulatedFault.Timeout or SimulatedFault.TooManyRequests;

    /// <summary>The status a fault is recorded with: what the client saw, or 0 when it saw no answer.</summary>
    public static int StatusOf(SimulatedFault fault) => fault switch
    {
        SimulatedFault.InternalServerError or SimulatedFault.CommitThenInternalServerError => StatusCodes.Status500InternalServerError,
        SimulatedFault.ServiceUnavailable => StatusCodes.Status503ServiceUnavailable,
        SimulatedFault.TooManyRequests => StatusCodes.Status429TooManyRequests,
        _ => 0,
    };

    /// <summary>
    /// Answers the fault: an error status with a small JSON body (<paramref name="decorate"/> adds provider headers, e.g.
    /// a rate-limit reset; <paramref name="body"/> replaces the generic body with the provider's error shape), or a hang
    /// that ends when the client aborts, or after <see cref="Hang"/> with 504.
    /// </summary>
    public async Task RespondAsync(HttpContext context, SimulatedFault fault, Action<HttpResponse, SimulatedFault>? decorate = null, JsonNode? body = null)
    {
        if (fault is SimulatedFault.Timeout or SimulatedFault.CommitThenTimeout)
        {
            try
            {
                await Task.Delay(Hang, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The client gave up, as it should have.
                return;
            }

            context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
            return;
        }

        context.Response.StatusCode = StatusOf(fault);
        decorate?.Invoke(context.Response, fault);
        context.Response.ContentType = "application/json";
        body ??= new JsonObject { ["code"] = StatusOf(fault), ["message"] = "Injected fault." };
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    private static bool Changes(string method) => !HttpMethods.IsGet(method) && !HttpMethods.IsHead(method) && !HttpMethods.IsOptions(method);

    /// <summary>The status to record for a request: the fault's when there was one, else the real answer.</summary>
    public static int Recorded(SimulatedFault fault, HttpStatusCode real) => fault == SimulatedFault.None ? (int)real : StatusOf(fault);

    private Random? _notificationRandom;
    private double _dropRate;
    private double _repeatRate;
    private readonly Dictionary<NotificationFault, int> _notificationCounts = [];

    /// <summary>Drops <paramref name="dropRate"/> and repeats <paramref name="repeatRate"/> of the notifications the simulator sends, drawn from <paramref name="seed"/>.</summary>
    public void EnableNotificationFaults(int seed, double dropRate, double repeatRate = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dropRate, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dropRate + repeatRate, 1);
        lock (_gate)
        {
            (_notificationRandom, _dropRate, _repeatRate) = (new Random(seed), dropRate, repeatRate);
            _notificationCounts.Clear();
        }
    }

    public void DisableNotificationFaults()
    {
        lock (_gate)
        {
            _notificationRandom = null;
        }
    }

    /// <summary>The fate of the next notification (drawn in sending order); Deliver when the plan is off.</summary>
    public NotificationFault NextNotification()
    {
        lock (_gate)
        {
            if (_notificationRandom is null)
            {
                return NotificationFault.Deliver;
            }

            var draw = _notificationRandom.NextDouble();
            var fault = draw < _dropRate ? NotificationFault.Drop : draw < _dropRate + _repeatRate ? NotificationFault.Repeat : NotificationFault.Deliver;
            _notificationCounts[fault] = _notificationCounts.GetValueOrDefault(fault) + 1;
            return fault;
        }
    }

    /// <summary>Notifications decided so far under the plan, by fate.</summary>
    public IReadOnlyDictionary<NotificationFault, int> NotificationCounts
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<NotificationFault, int>(_notificationCounts);
            }
        }
    }
}
