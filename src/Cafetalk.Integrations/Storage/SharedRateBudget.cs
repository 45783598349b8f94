using System.Threading.RateLimiting;
using Azure;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Storage;

/// <summary>The knobs of a <see cref="SharedRateBudget"/>.</summary>
public sealed record SharedRateBudgetOptions
{
    /// <summary>The provider whose budget this is: the PartitionKey of its schedule row.</summary>
    public required string Provider { get; init; }

    /// <summary>The provider's limit per second, for the whole account.</summary>
    public required int RequestsPerSecond { get; init; }

    /// <summary>The fraction of <see cref="RequestsPerSecond"/> left unused, absorbing timer lateness and clock offsets.</summary>
    public double Headroom { get; init; } = 0.05;

    /// <summary>Send times reserved per table transaction, at most.</summary>
    public int BlockSize { get; init; } = 5;

    /// <summary>Instances assumed to share the budget when the table is unreachable before any instance was seen.</summary>
    public int FallbackInstances { get; init; } = 8;

    /// <summary>Requests that may wait for a send time; more get a failed lease.</summary>
    public int QueueLimit { get; init; } = 10_000;

    /// <summary>A reservation not answered within this counts as the table being unreachable.</summary>
    public TimeSpan StorageTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long an instance paces locally after the table failed before it tries the table again.</summary>
    public TimeSpan FallbackDuration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The rate the budget hands out: the limit less the headroom.</summary>
    public double EffectiveRequestsPerSecond => RequestsPerSecond * (1 - Headroom);

    /// <summary>The gap between two send times, rounded up so the rate is never above <see cref="EffectiveRequestsPerSecond"/>.</summary>
    public TimeSpan Spacing => TimeSpan.FromTicks((long)Math.Ceiling(TimeSpan.TicksPerSecond / EffectiveRequestsPerSecond));

    /// <summary>The next block is reserved when the send times an instance holds run out within one block's time.</summary>
    public TimeSpan RefillLead => Spacing * BlockSize;

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Provider);
        ArgumentOutOfRangeException.ThrowIfLessThan(RequestsPerSecond, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(Headroom);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Headroom, 0.9);
        ArgumentOutOfRangeException.ThrowIfLessThan(BlockSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(FallbackInstances, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(QueueLimit, 1);
    }
}

/// <summary>
/// A provider's per-second budget shared by every instance through table <c>ProviderRateBudget</c>, as a
/// <see cref="RateLimiter"/> for an HttpClient resilience pipeline.
/// </summary>
/// <remarks>
/// Every request gets its own send time on one schedule for the whole account, <see cref="SharedRateBudgetOptions.Spacing"/>
/// apart (1/19 s at 20/s with 5 % headroom). Send times evenly spaced cannot bunch at a window boundary, so however
/// the provider's one-second windows are aligned with ours, none holds more than the effective rate plus what
/// lateness adds; the headroom keeps that under the limit. An instance reserves up to
/// <see cref="SharedRateBudgetOptions.BlockSize"/> send times per table transaction, only for requests already
/// waiting, and reserves the next block only when those it holds run out within
/// <see cref="SharedRateBudgetOptions.RefillLead"/> plus twice the table's recent answer time: under load the block
/// is full (0.2 reservations per request at 5), and a burst on one instance holds at most about two blocks, so it
/// cannot take the budget from the others for long.
/// A request whose timer fires more than one spacing late (a stalled machine) gives up its send time and takes a new
/// one (at most three times), so late requests do not go out in a burst with on-time ones.
/// <para>
/// If the table fails or does not answer within <see cref="SharedRateBudgetOptions.StorageTimeout"/>, the instance
/// paces itself locally at its fair share — the effective rate divided by the instances that reserved in the last
/// 10 s (or <see cref="SharedRateBudgetOptions.FallbackInstances"/> if it never reached the table) — for
/// <see cref="SharedRateBudgetOptions.FallbackDuration"/>, then tries the table again. Requests are slowed, never
/// let through unlimited and never failed.
/// </para>
/// </remarks>
public class SharedRateBudget : RateLimiter
{
    /// <summary>The time a granted lease may be used from (lease metadata).</summary>
    public static readonly MetadataName<DateTimeOffset> SendAt = MetadataName.Create<DateTimeOffset>("SEND_AT");

    /// <summary>A request gives up at most this many late send times, then goes late rather than starve on a slow machine.</summary>
    private const int MaxForfeits = 3;

    private readonly SharedRateBudgetOptions _options;
    private readonly IRateSchedule _shared;
    private readonly LocalRateSchedule _local = new();
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly PriorityQueue<DateTimeOffset, DateTimeOffset> _spare = new();
    private readonly CancellationTokenSource _disposed = new();
    private int _queuedPermits;
    private bool _pumping;
    private DateTimeOffset _lastAssigned = DateTimeOffset.MinValue;
    private long _forfeited;
    private DateTimeOffset? _idleSince;
    private long _successfulLeases;
    private long _failedLeases;
    private int _knownInstances;
    private DateTimeOffset? _fallbackUntil;
    private TimeSpan _reserveLatency;

    /// <summary>A budget on the shared table of <paramref name="storage"/>, paced by <paramref name="clock"/>.</summary>
    public SharedRateBudget(StorageAccount storage, SharedRateBudgetOptions options, ILogger logger, TimeProvider clock)
        : this(new TableRateSchedule(storage, options.Provider, Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..12], clock), options, logger, clock)
    {
    }

    internal SharedRateBudget(IRateSchedule shared, SharedRateBudgetOptions options, ILogger logger, TimeProvider clock)
    {
        options.Validate();
        _shared = shared;
        _options = options;
        _logger = logger;
        _clock = clock;
        _idleSince = clock.GetUtcNow();
    }

    public SharedRateBudgetOptions Options => _options;

    /// <summary>Send times given up because the request was ready more than one spacing after them (a stalled machine).</summary>
    public long ForfeitedSendTimes => Interlocked.Read(ref _forfeited);

    /// <summary>True while this instance paces itself locally because the shared table failed.</summary>
    public bool IsPacingLocally
    {
        get
        {
            lock (_gate)
            {
                return _fallbackUntil is { } until && _clock.GetUtcNow() < until;
            }
        }
    }

    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_gate)
            {
                return _idleSince is { } since ? _clock.GetUtcNow() - since : null;
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_gate)
        {
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = _spare.Count,
                CurrentQueuedCount = _queuedPermits,
                TotalSuccessfulLeases = Interlocked.Read(ref _successfulLeases),
                TotalFailedLeases = Interlocked.Read(ref _failedLeases),
            };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        CheckPermitCount(permitCount);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            var now = _clock.GetUtcNow();
            if (permitCount == 0)
            {
                return _waiters.Count == 0 ? Granted(now) : Refused();
            }

            // Without waiting, only send times already reserved and due now can be given.
            DropStaleSpares(now);
            if (_waiters.Count == 0 && permitCount == 1 && _spare.Count > 0 && _spare.Peek() <= now)
            {
                return Granted(_spare.Dequeue());
            }

            return Refused();
        }
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        CheckPermitCount(permitCount);
        cancellationToken.ThrowIfCancellationRequested();
        if (permitCount == 0)
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
                return _waiters.Count == 0 ? Granted(_clock.GetUtcNow()) : Refused();
            }
        }

        for (var forfeits = 0; ; forfeits++)
        {
            if (await TakeSendTimeAsync(permitCount, retaken: forfeits > 0, cancellationToken) is not { } sendAt)
            {
                return Refused();
            }

            var wait = sendAt - _clock.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    // Timers count whole milliseconds: round up, so a request never leaves before its send time.
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)), _clock, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // The caller gave up: the next request on this instance may use the send time instead.
                    lock (_gate)
                    {
                        _spare.Enqueue(sendAt, sendAt);
                    }

                    throw;
                }
            }

            // Late by up to one spacing keeps any one-second window within the limit; later, on a stalled machine, the
            // send time is given up and a new one taken, so late requests never go out together with on-time ones.
            if (_clock.GetUtcNow() - sendAt <= _options.Spacing || forfeits >= MaxForfeits)
            {
                return Granted(sendAt);
            }

            Interlocked.Increment(ref _forfeited);
        }
    }

    /// <summary>A spare send time still due, or a place in the queue (at its head when <paramref name="retaken"/>); null when refused.</summary>
    private async Task<DateTimeOffset?> TakeSendTimeAsync(int permitCount, bool retaken, CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            DropStaleSpares(_clock.GetUtcNow());
            if (_waiters.Count == 0 && _spare.Count >= permitCount)
            {
                DateTimeOffset at = default;
                for (var i = 0; i < permitCount; i++)
                {
                    at = _spare.Dequeue();
                }

                return at;
            }

            if (!retaken && _queuedPermits + permitCount > _options.QueueLimit)
            {
                return null;
            }

            waiter = new Waiter(permitCount);
            waiter.Node = retaken ? _waiters.AddFirst(waiter) : _waiters.AddLast(waiter);
            _queuedPermits += permitCount;
            _idleSince = null;
            if (!_pumping)
            {
                _pumping = true;
                // The pump serves every later request too: it must not carry this one's trace and log scope.
                using (ExecutionContext.SuppressFlow())
                {
                    _ = Task.Run(PumpAsync, CancellationToken.None);
                }
            }
        }

        await using (cancellationToken.Register(() => Cancel(waiter, cancellationToken)))
        {
            return await waiter.Done.Task;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed.IsCancellationRequested)
        {
            _disposed.Cancel();
            FailWaiters();
        }

        base.Dispose(disposing);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        Dispose(true);
        await base.DisposeAsyncCore();
    }

    /// <summary>Waiting requests get a failed lease (on dispose, or if the pump broke).</summary>
    private void FailWaiters()
    {
        lock (_gate)
        {
            _pumping = false;
            foreach (var waiter in _waiters)
            {
                waiter.Node = null;
                waiter.Done.TrySetResult(null);
            }

            _waiters.Clear();
            _queuedPermits = 0;
        }
    }

    private void CheckPermitCount(int permitCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(permitCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(permitCount, _options.QueueLimit);
    }

    private BudgetLease Granted(DateTimeOffset sendAt)
    {
        Interlocked.Increment(ref _successfulLeases);
        return new BudgetLease(sendAt, null);
    }

    private BudgetLease Refused()
    {
        Interlocked.Increment(ref _failedLeases);
        return new BudgetLease(null, _options.Spacing);
    }

    /// <summary>A send time left by a cancelled request is used by the next one while it is due; an old one would bunch with the next instance's.</summary>
    private void DropStaleSpares(DateTimeOffset now)
    {
        while (_spare.Count > 0 && _spare.Peek() < now - (_options.Spacing / 4))
        {
            _spare.Dequeue();
        }
    }

    private void Cancel(Waiter waiter, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (waiter.Node is not null)
            {
                _waiters.Remove(waiter.Node);
                waiter.Node = null;
                _queuedPermits -= waiter.Remaining;
                foreach (var at in waiter.Assigned)
                {
                    _spare.Enqueue(at, at);
                }
            }
        }

        waiter.Done.TrySetCanceled(cancellationToken);
    }

    /// <summary>While requests wait: reserve a block for them, hand its send times out in order, repeat.</summary>
    private async Task PumpAsync()
    {
        try
        {
            while (true)
            {
                TimeSpan lead;
                DateTimeOffset lastAssigned;
                lock (_gate)
                {
                    // Send times left by cancelled requests go to waiting ones before anything new is reserved.
                    DropStaleSpares(_clock.GetUtcNow());
                    while (_spare.Count > 0 && _waiters.Count > 0)
                    {
                        AssignLocked(_spare.Dequeue());
                    }

                    if (_waiters.Count == 0 || _disposed.IsCancellationRequested)
                    {
                        _pumping = false;
                        _idleSince ??= _clock.GetUtcNow();
                        return;
                    }

                    lastAssigned = _lastAssigned;
                    // A slow table must still answer before the send times held run out.
                    lead = _options.RefillLead + (_reserveLatency * 2);
                }

                var holdUntil = lastAssigned == DateTimeOffset.MinValue ? lastAssigned : lastAssigned - lead;
                var hold = holdUntil - _clock.GetUtcNow();
                if (hold > TimeSpan.Zero)
                {
                    await Task.Delay(hold, _clock, _disposed.Token);
                }

                int demand;
                lock (_gate)
                {
                    // Everyone who queued during the hold counts too.
                    demand = Math.Min(_options.BlockSize, _queuedPermits);
                }

                if (demand > 0)
                {
                    Assign(await ReserveAsync(demand));
                }
            }
        }
        catch (Exception ex)
        {
            FailWaiters();
            if (!_disposed.IsCancellationRequested)
            {
                _logger.LogError("The {Provider} rate budget stopped ({Error}); waiting requests were refused", _options.Provider, ex.GetType().Name);
            }
        }
    }

    private void Assign(RateSlots slots)
    {
        lock (_gate)
        {
            for (var i = 0; i < slots.Count; i++)
            {
                var at = slots.At(i);
                if (_waiters.Count == 0)
                {
                    _spare.Enqueue(at, at);
                }
                else
                {
                    AssignLocked(at);
                }
            }

            if (slots.Last > _lastAssigned)
            {
                _lastAssigned = slots.Last;
            }
        }
    }

    /// <summary>Gives <paramref name="at"/> to the first waiting request; the caller holds the gate.</summary>
    private void AssignLocked(DateTimeOffset at)
    {
        var waiter = _waiters.First!.Value;
        waiter.Assigned.Add(at);
        waiter.Remaining--;
        _queuedPermits--;
        if (waiter.Remaining == 0)
        {
            _waiters.RemoveFirst();
            waiter.Node = null;
            waiter.Done.TrySetResult(at);
        }
    }

    /// <summary>Send times from the shared table, or from the local schedule at this instance's fair share while the table fails.</summary>
    private async Task<RateSlots> ReserveAsync(int count)
    {
        var started = _clock.GetUtcNow();
        int fairShare;
        lock (_gate)
        {
            fairShare = Math.Max(1, _knownInstances > 0 ? _knownInstances : _options.FallbackInstances);
            if (_fallbackUntil is { } until && started < until)
            {
                return LocalReserve(count, fairShare, started);
            }
        }

        try
        {
            using var timeout = new CancellationTokenSource(_options.StorageTimeout, _clock);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _disposed.Token);
            // Ask for times after the answer arrives, so the first one is not already late when it is handed out.
            var slots = await _shared.ReserveAsync(count, _options.Spacing, started + _reserveLatency, linked.Token);
            var latency = _clock.GetUtcNow() - started;
            lock (_gate)
            {
                _reserveLatency = _reserveLatency == TimeSpan.Zero ? latency : ((_reserveLatency * 7) + latency) / 8;
                _knownInstances = slots.ActiveInstances;
                if (_fallbackUntil is not null)
                {
                    _fallbackUntil = null;
                    _logger.LogInformation("The {Provider} rate budget is shared again ({Instances} instances)", _options.Provider, slots.ActiveInstances);
                }
            }

            return slots;
        }
        catch (Exception ex) when (!_disposed.IsCancellationRequested)
        {
            var now = _clock.GetUtcNow();
            lock (_gate)
            {
                _fallbackUntil = now + _options.FallbackDuration;
            }

            _logger.LogWarning(
                "The {Provider} rate budget table failed ({Error} {Status}); this instance paces itself at {Rate:F2} requests/s (1/{Instances} of the budget) for {Seconds} s",
                _options.Provider, ex.GetType().Name, (ex as RequestFailedException)?.Status, _options.EffectiveRequestsPerSecond / fairShare, fairShare, _options.FallbackDuration.TotalSeconds);
            lock (_gate)
            {
                return LocalReserve(count, fairShare, now);
            }
        }
    }

    private RateSlots LocalReserve(int count, int fairShare, DateTimeOffset now)
    {
        var notBefore = _lastAssigned > now ? _lastAssigned + _options.Spacing : now;
        return _local.Reserve(count, _options.Spacing * fairShare, notBefore);
    }

    private sealed class Waiter(int permits)
    {
        public TaskCompletionSource<DateTimeOffset?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Remaining { get; set; } = permits;

        public List<DateTimeOffset> Assigned { get; } = [];

        public LinkedListNode<Waiter>? Node { get; set; }
    }

    private sealed class BudgetLease(DateTimeOffset? sendAt, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => sendAt is not null;

        public override IEnumerable<string> MetadataNames => sendAt is not null ? [SendAt.Name] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            if (sendAt is { } at && metadataName == SendAt.Name)
            {
                metadata = at;
                return true;
            }

            if (sendAt is null && retryAfter is { } after && metadataName == MetadataName.RetryAfter.Name)
            {
                metadata = after;
                return true;
            }

            metadata = null;
            return false;
        }
    }
}
