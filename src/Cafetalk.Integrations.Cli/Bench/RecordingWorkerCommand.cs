using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Cafetalk.Integrations.Cli.Serving;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.Cli.Bench;

/// <summary>What the recording worker reports about itself when the zoom-events queue is empty.</summary>
internal sealed record RecordingWorkerReport(int Invocations, double Seconds, long PeakResidentBytes, long ManagedBytesAllocated, ProcessRuntime Runtime);

/// <summary>
/// <c>bench recording-worker</c> (hidden): the part of the Functions worker a recording runs in — the zoom-events
/// function with the core's HttpClients and storage clients, nothing else — alone in this process, so the bench can
/// read its memory from the kernel. Settings come from the environment, as the worker's app settings do.
/// </summary>
internal static class RecordingWorkerCommand
{
    public const string Name = "recording-worker";

    public static Command Create(TextWriter stdout)
    {
        var command = new Command(Name, "Run the zoom-events function until its queue is empty and print this process's peak memory (used by bench).") { Hidden = true };
        command.SetAction(async (_, cancellationToken) =>
        {
            await using var services = CliHost.Build(new Dictionary<string, string?>());
            var pump = ActivatorUtilities.CreateInstance<LocalQueuePump>(services);
            var clock = Stopwatch.StartNew();
            // One message at a time, as a worker given one recording runs it.
            var invocations = await pump.RunUntilIdleAsync(1, f => f.Queue == QueueNames.ZoomEvents, cancellationToken);
            var report = new RecordingWorkerReport(invocations, clock.Elapsed.TotalSeconds, ResidentMemory.OfThisProcess().PeakBytes,
                GC.GetTotalAllocatedBytes(), ProcessRuntime.OfThisProcess());
            await stdout.WriteLineAsync(JsonSerializer.Serialize(report, JsonSerializerOptions.Web));
            return CliApplication.ExitOk;
        });
        return command;
    }
}
