using System.Text;
using System.Text.Json;
using Azure;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Cli.Draining;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Cafetalk.Integrations.Cli.Demo;

/// <summary>
/// The one-command demo: starts the Sandbox, publishes events to <c>booking-events</c> as the booking system
/// would, drains them through the functions' own intake and reports what happened.
/// </summary>
internal sealed class DemoRunner(IAnsiConsole console, TextWriter stdout)
{
    // Base64 makes a queue message 4/3 larger, and the queue takes 64 KiB: longer lines skip the queue.
    private const int MaxQueueableBytes = 48 * 1024;

    public async Task<int> RunAsync(FileInfo? eventsFile, bool json, CancellationToken cancellationToken)
    {
        var messages = eventsFile is null
            ? SampleEvents.DemoDay(TimeProvider.System.GetUtcNow())
            : await ReadEventLinesAsync(eventsFile, cancellationToken);

        var interactive = !json && !Console.IsOutputRedirected;
        await using var sandbox = await WithStatus(interactive, "Starting the Sandbox (Azurite)…", () => SandboxEnvironment.StartAsync(cancellationToken));
        await using var services = CliHost.Build(sandbox.Settings());
        var storage = services.GetRequiredService<StorageAccount>();
        var intake = services.GetRequiredService<BookingEventIntake>();
        await storage.EnsureProvisionedAsync(cancellationToken);

        var tally = await WithStatus(interactive, $"Publishing and draining {messages.Count} events…", async () =>
        {
            var direct = await PublishAsync(storage, intake, messages, cancellationToken);
            var drainer = new QueueDrainer(storage, intake, services.GetRequiredService<PoisonQueue>());
            var drained = await drainer.DrainAsync(cancellationToken: cancellationToken);
            foreach (var outcome in direct)
            {
                drained.Add(outcome);
            }

            return drained;
        });

        var report = DemoReport.From(tally);
        if (json)
        {
            await stdout.WriteLineAsync(JsonSerializer.Serialize(report));
            return 0;
        }

        var states = new List<DesiredState>();
        await foreach (var state in services.GetRequiredService<BookingStateStore>().ListAsync(cancellationToken))
        {
            states.Add(state);
        }

        PrintSummary(tally, states);
        return 0;
    }

    /// <summary>One message per non-blank line, exactly as written: bad lines are the intake's to reject.</summary>
    private static async Task<IReadOnlyList<string>> ReadEventLinesAsync(FileInfo file, CancellationToken cancellationToken)
    {
        var lines = await File.ReadAllLinesAsync(file.FullName, Encoding.UTF8, cancellationToken);
        return lines.Where(line => !string.IsNullOrWhiteSpace(line)).ToList();
    }

    private static async Task<List<IntakeOutcome>> PublishAsync(StorageAccount storage, BookingEventIntake intake, IReadOnlyList<string> messages, CancellationToken cancellationToken)
    {
        var queue = storage.Queue(QueueNames.BookingEvents);
        var direct = new List<IntakeOutcome>();
        foreach (var message in messages)
        {
            if (Encoding.UTF8.GetByteCount(message) > MaxQueueableBytes)
            {
                direct.Add(await intake.ProcessAsync(message, messageId: null, cancellationToken));
                continue;
            }

            try
            {
                await queue.SendMessageAsync(message, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status == 413)
            {
                direct.Add(await intake.ProcessAsync(message, messageId: null, cancellationToken));
            }
        }

        return direct;
    }

    private async Task<T> WithStatus<T>(bool interactive, string text, Func<Task<T>> work) =>
        interactive ? await console.Status().StartAsync(text, _ => work()) : await work();

    private void PrintSummary(DrainTally tally, List<DesiredState> states)
    {
        var counts = new Table().Title("Events").AddColumns("received", "processed", "  applied", "  unchanged (redelivered or late)", "  forwarded (member events)", "rejected");
        counts.AddRow(
            tally.Received.ToString(), tally.Processed.ToString(), tally.Applied.ToString(), tally.Unchanged.ToString(),
            tally.Forwarded.ToString(), tally.Rejected.ToString());
        console.Write(counts);

        if (tally.Rejections.Count > 0)
        {
            var reasons = new Table().Title("Rejected, moved to booking-events-poison").AddColumns("reason", "count");
            foreach (var (reason, count) in tally.Rejections)
            {
                reasons.AddRow(Markup.Escape(reason), count.ToString());
            }

            console.Write(reasons);
        }

        var bookings = new Table().Title("Desired state in table Bookings").AddColumns("lecturer", "booking", "version", "status", "starts (UTC)", "minutes", "time zone", "recording");
        foreach (var state in states.OrderBy(s => s.BookingId, StringComparer.Ordinal))
        {
            bookings.AddRow(
                Markup.Escape(state.LecturerId), Markup.Escape(state.BookingId), state.Version.ToString(), state.Status.ToString(),
                state.StartsAtUtc.ToString("yyyy-MM-dd HH:mm"), state.DurationMinutes.ToString(), Markup.Escape(state.LecturerTimeZone),
                state.RecordingConsent.Both ? "both consented" : "no");
        }

        console.Write(bookings);
        if (tally.Failed > 0)
        {
            console.MarkupLine($"[yellow]{tally.Failed} message(s) failed on storage and stay queued for a retry.[/]");
        }
    }
}
