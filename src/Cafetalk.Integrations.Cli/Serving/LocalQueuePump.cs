using System.Reflection;
using Cafetalk.Integrations.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Cli.Serving;

/// <summary>One queue-triggered function as its attributes declare it.</summary>
internal sealed record QueueFunction(string Name, string Queue, Type Type, MethodInfo Method);

/// <summary>
/// Runs the app's queue-triggered functions locally the way the host does: receive, invoke, delete on success;
/// a message that keeps failing goes to <c>{queue}-poison</c> after the host's maxDequeueCount. Queue names are
/// read from the [QueueTrigger] attributes, so nothing is written twice.
/// </summary>
internal sealed class LocalQueuePump(IServiceProvider services, StorageAccount storage, ILogger<LocalQueuePump> logger)
{
    public const int MaxDequeueCount = 5;

    /// <summary>How long a received message stays hidden while it is processed.</summary>
    public TimeSpan Visibility { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a failed message waits before it is retried (host.json <c>visibilityTimeout</c>).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// When set, each queue is polled as the Functions host polls it (learn.microsoft.com, "Azure Queue storage trigger",
    /// polling algorithm): about 100 ms after a receive that found messages, about 200 ms after one that found none,
    /// doubling with some randomness up to this host.json <c>maxPollingInterval</c>. The bench counts storage requests
    /// this way; when null every queue is polled on every pass, which finishes tests sooner and costs more receives.
    /// </summary>
    public TimeSpan? MaxPollingInterval { get; set; }

    public static IReadOnlyList<QueueFunction> ReadFunctions() =>
        FunctionRouteTable.FunctionsAssembly.GetExportedTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance).Select(m => (Type: t, Method: m)))
            .Select(x => (x.Type, x.Method, Function: x.Method.GetCustomAttribute<FunctionAttribute>(),
                Trigger: x.Method.GetParameters().Select(p => p.GetCustomAttribute<QueueTriggerAttribute>()).FirstOrDefault(a => a is not null)))
            .Where(x => x.Function is not null && x.Trigger is not null)
            .Select(x => new QueueFunction(x.Function!.Name, x.Trigger!.QueueName, x.Type, x.Method))
            .ToList();

    /// <summary>Processes until a full pass over every queue finds nothing visible; returns the invocations made.</summary>
    public async Task<int> RunUntilIdleAsync(CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var functions = ReadFunctions();
        var total = 0;
        int handled;
        do
        {
            handled = 0;
            foreach (var function in functions)
            {
                handled += await PumpOnceAsync(function, cancellationToken);
            }

            total += handled;
        }
        while (handled > 0);

        return total;
    }

    /// <summary>Keeps processing until cancelled, polling idle queues every half second.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (await RunUntilIdleAsync(cancellationToken) == 0)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Processes until idle with <paramref name="parallelism"/> messages in flight across all queues, the way one
    /// host instance runs its batches concurrently: a fetcher receives up to 16 messages per call while fewer than
    /// the parallelism wait, and workers invoke the functions. Returns the invocations made.
    /// </summary>
    public Task<int> RunUntilIdleAsync(int parallelism, CancellationToken cancellationToken = default) =>
        RunUntilIdleAsync(parallelism, only: null, cancellationToken);

    /// <summary>Like <see cref="RunUntilIdleAsync(int, CancellationToken)"/>, for only the functions <paramref name="only"/> picks.</summary>
    public async Task<int> RunUntilIdleAsync(int parallelism, Func<QueueFunction, bool>? only, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        await storage.EnsureProvisionedAsync(cancellationToken);
        var functions = ReadFunctions().Where(f => only?.Invoke(f) ?? true).ToList();
        var work = System.Threading.Channels.Channel.CreateBounded<(QueueFunction Function, Azure.Storage.Queues.Models.QueueMessage Message)>(parallelism);
        var inFlight = 0;
        var total = 0;
        var workers = Enumerable.Range(0, parallelism).Select(_ => Task.Run(async () =>
        {
            await foreach (var (function, message) in work.Reader.ReadAllAsync(cancellationToken))
            {
                try
                {
                    await ProcessAsync(function, storage.Queue(function.Queue), message, cancellationToken);
                }
                finally
                {
                    Interlocked.Increment(ref total);
                    Interlocked.Decrement(ref inFlight);
                }
            }
        }, cancellationToken)).ToList();

        try
        {
            var polls = functions.ToDictionary(f => f, _ => new QueuePoll());
            var idlePasses = 0;
            // Idle means: nothing in flight and then a whole pass over every queue found nothing (work in flight may still enqueue more).
            while (idlePasses < 2)
            {
                // A pass to confirm idleness asks every queue, whatever its back-off.
                var confirming = Volatile.Read(ref inFlight) == 0;
                var received = 0;
                foreach (var function in functions)
                {
                    var room = Math.Min(16, (2 * parallelism) - Volatile.Read(ref inFlight));
                    if (room <= 0)
                    {
                        break;
                    }

                    var poll = polls[function];
                    if (!confirming && MaxPollingInterval is not null && poll.DueAt > TimeProvider.System.GetUtcNow())
                    {
                        continue;
                    }

                    var batch = await storage.Queue(function.Queue).ReceiveMessagesAsync(room, TimeSpan.FromSeconds(30), cancellationToken);
                    foreach (var message in batch.Value)
                    {
                        Interlocked.Increment(ref inFlight);
                        await work.Writer.WriteAsync((function, message), cancellationToken);
                    }

                    received += batch.Value.Length;
                    if (MaxPollingInterval is { } max)
                    {
                        poll.After(batch.Value.Length > 0, max);
                    }
                }

                if (received > 0 || Volatile.Read(ref inFlight) > 0)
                {
                    idlePasses = 0;
                    if (received == 0)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
                    }
                }
                else
                {
                    idlePasses++;
                }
            }
        }
        finally
        {
            work.Writer.TryComplete();
            await Task.WhenAll(workers);
        }

        return total;
    }

    private async Task<int> PumpOnceAsync(QueueFunction function, CancellationToken cancellationToken)
    {
        var queue = storage.Queue(function.Queue);
        var batch = await queue.ReceiveMessagesAsync(16, Visibility, cancellationToken);
        foreach (var message in batch.Value)
        {
            await ProcessAsync(function, queue, message, cancellationToken);
        }

        return batch.Value.Length;
    }

    /// <summary>Invokes the function on one message: deleted on success, to <c>{queue}-poison</c> after the last attempt.</summary>
    private async Task ProcessAsync(QueueFunction function, Azure.Storage.Queues.QueueClient queue, Azure.Storage.Queues.Models.QueueMessage message, CancellationToken cancellationToken)
    {
        var text = message.Body.ToString();
        var bindingData = new Dictionary<string, object?> { ["Id"] = message.MessageId, ["DequeueCount"] = message.DequeueCount };
        try
        {
            var instance = ActivatorUtilities.GetServiceOrCreateInstance(services, function.Type);
            var arguments = function.Method.GetParameters().Select(p =>
                p.ParameterType == typeof(string) ? text
                : p.ParameterType == typeof(FunctionContext) ? new LocalFunctionContext(services, function.Name, bindingData)
                : p.ParameterType == typeof(CancellationToken) ? (object)cancellationToken
                : throw new InvalidOperationException($"The local pump cannot bind parameter '{p.Name}' of {function.Name}.")).ToArray();
            await (Task)function.Method.Invoke(instance, arguments)!;
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var error = ex is TargetInvocationException { InnerException: { } inner } ? inner : ex;
            logger.LogWarning("{Function} failed on message {MessageId} (attempt {DequeueCount}): {ErrorType}",
                function.Name, message.MessageId, message.DequeueCount, error.GetType().Name);
            if (message.DequeueCount >= MaxDequeueCount)
            {
                var poison = storage.Queue(function.Queue + "-poison");
                await poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
                await poison.SendMessageAsync(text, cancellationToken);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
            }
            else if (RetryDelay < Visibility)
            {
                await RetryLaterAsync(queue, message);
            }
        }
    }

    /// <summary>Shows a failed message again after <see cref="RetryDelay"/>; if storage is down too, the receive's visibility does it.</summary>
    private async Task RetryLaterAsync(Azure.Storage.Queues.QueueClient queue, Azure.Storage.Queues.Models.QueueMessage message)
    {
        try
        {
            await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: RetryDelay, cancellationToken: CancellationToken.None);
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or AggregateException)
        {
            logger.LogWarning("Could not reschedule message {MessageId}: {ErrorType}", message.MessageId, ex.GetType().Name);
        }
    }

    /// <summary>When a queue may be polled again, as the Functions host backs off an idle queue.</summary>
    private sealed class QueuePoll
    {
        private static readonly TimeSpan AfterMessages = TimeSpan.FromMilliseconds(100);
        private static readonly TimeSpan FirstIdleWait = TimeSpan.FromMilliseconds(200);
        private TimeSpan _idleWait = TimeSpan.Zero;

        public DateTimeOffset DueAt { get; private set; } = DateTimeOffset.MinValue;

        public void After(bool foundMessages, TimeSpan maxPollingInterval)
        {
            // Doubling with up to a fifth either way, so many idle queues do not poll in step.
            _idleWait = foundMessages ? TimeSpan.Zero
                : _idleWait == TimeSpan.Zero ? FirstIdleWait
                : TimeSpan.FromTicks(Math.Min(maxPollingInterval.Ticks, (long)(_idleWait.Ticks * 2 * (0.8 + (0.4 * Random.Shared.NextDouble())))));
            DueAt = TimeProvider.System.GetUtcNow() + (foundMessages ? AfterMessages : _idleWait);
        }
    }
}
