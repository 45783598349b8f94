using Azure.Core;
using Azure.Core.Pipeline;

namespace Cafetalk.Integrations.IntegrationTests.Faults;

/// <summary>The worker process died here. Nothing after it in that worker reaches a provider or storage.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1710", Justification = "Not an error a caller handles: it stands for the process being gone.")]
public sealed class SimulatedCrash(int step, string at) : Exception($"simulated worker crash at step {step} ({at})")
{
    public int Step { get; } = step;
}

/// <summary>
/// Kills one worker at one step of its work. Steps are counted in the order they happen: each provider call (the whole
/// logical call, retries included) counts once its answer is back, and each storage write counts just before it is
/// sent. At step <see cref="KillAt"/> the worker dies: the provider's answer is thrown away (the provider did the work,
/// the worker never learns it) or the write is never sent, and from then on every provider call and storage request of
/// that worker fails, so no catch block can write a late outcome — as when the process is gone.
/// </summary>
public sealed class WorkerKill
{
    private readonly Lock _gate = new();
    private readonly List<string> _steps = [];
    private bool _dead;

    /// <summary>The step to die at; 0 counts steps without killing.</summary>
    public int KillAt { get; private set; }

    public bool Armed { get; private set; }

    public bool Dead
    {
        get
        {
            lock (_gate)
            {
                return _dead;
            }
        }
    }

    /// <summary>Every step seen since the worker was armed, in order (for reports: "provider zoom POST …", "storage PATCH Bookings").</summary>
    public IReadOnlyList<string> Steps
    {
        get
        {
            lock (_gate)
            {
                return [.. _steps];
            }
        }
    }

    /// <summary>Starts counting (after start-up provisioning, which is not part of a converge); dies at step <paramref name="killAt"/> if above 0.</summary>
    public void Arm(int killAt)
    {
        lock (_gate)
        {
            (KillAt, Armed, _dead) = (killAt, true, false);
            _steps.Clear();
        }
    }

    /// <summary>Fails the call when the worker is already dead.</summary>
    public void ThrowIfDead(string at)
    {
        lock (_gate)
        {
            if (_dead)
            {
                throw new SimulatedCrash(_steps.Count, "after death: " + at);
            }
        }
    }

    /// <summary>Counts a step; true when the worker dies at it.</summary>
    public bool Step(string at)
    {
        lock (_gate)
        {
            if (!Armed)
            {
                return false;
            }

            _steps.Add(at);
            if (KillAt > 0 && _steps.Count == KillAt)
            {
                _dead = true;
                return true;
            }

            return false;
        }
    }
}

/// <summary>Outermost handler of every provider HttpClient: the call goes out (through retries and the gate), then the worker may die.</summary>
public sealed class ProviderKillHandler(WorkerKill kill) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var at = $"provider {request.Method} {request.RequestUri?.AbsolutePath}";
        kill.ThrowIfDead(at);
        var response = await base.SendAsync(request, cancellationToken);
        if (kill.Step(at))
        {
            response.Dispose();
            throw new SimulatedCrash(kill.KillAt, at);
        }

        return response;
    }
}

/// <summary>Per-call storage policy: a write may be the step the worker dies at (before it is sent); a dead worker reaches nothing.</summary>
public sealed class StorageKillPolicy(WorkerKill kill) : HttpPipelinePolicy
{
    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Check(message);
        ProcessNext(message, pipeline);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Check(message);
        await ProcessNextAsync(message, pipeline);
    }

    private void Check(HttpMessage message)
    {
        var request = message.Request;
        var at = $"storage {request.Method} {Describe(request.Uri.Path)}";
        kill.ThrowIfDead(at);
        if (IsWrite(request) && kill.Step(at))
        {
            throw new SimulatedCrash(kill.KillAt, at);
        }
    }

    /// <summary>Reads (GET, HEAD) change nothing; every other verb (insert, merge, batch, send, delete) is a write.</summary>
    private static bool IsWrite(Request request) => request.Method != RequestMethod.Get && request.Method != RequestMethod.Head;

    /// <summary>The table or queue name without the account segment or keys, e.g. "Bookings" or "calendar-converge/messages".</summary>
    private static string Describe(string path)
    {
        var segments = path.Trim('/').Split('/');
        var name = segments.Length > 1 ? string.Join('/', segments.Skip(1)) : path;
        var paren = name.IndexOf('(', StringComparison.Ordinal);
        return paren > 0 ? name[..paren] : name;
    }
}
