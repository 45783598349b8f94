using System.Text.Json;
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
    public async Task<int> RunAsync(FileInfo? eventsFile, bool json, CancellationToken cancellationToken)
    {
        var messages = eventsFile is null
            ? SampleEvents.DemoDay(TimeProvider.System.GetUtcNow())
            : await EventPublisher.ReadLinesAsync(eventsFile, cancellationToken);

        var interactive = !json && !Console.IsOutputRedirected;
        await using var sandbox = await WithStatus(interactive, "Starting the Sandbox (Azurite)…", () => SandboxEnvironment.StartAsync(cancellationToken));
        await using var services = CliHost.Build(sandbox.Settings());
        var storage = services.GetRequiredService<StorageAccount>();
        var intake = services.GetRequiredService<BookingEventIntake>();
        await storage.EnsureProvisionedAsync(cancellationToken);

        var tally = await WithStatus(interactive, $"Publishing and draining {messages.Count} events…", async () =>
        {
            var direct = await new EventPublisher(storage, intake).PublishAsync(messages, cancellationToken);
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

    private async Task<T> WithStatus<T>(bool interactive, string text, Func<Task<T>> work) =>
        interactive ? await console.Status().StartAsync(text, _ => work()) : await work();

    private void PrintSummary(DrainTally tally, List<DesiredState> states)
    {
        TallyView.Write(console, tally);

        var bookings = new Table().Title("Desired state in table Bookings").AddColumns("lecturer", "booking", "version", "status", "starts (UTC)", "minutes", "time zone", "recording");
        foreach (var state in states.OrderBy(s => s.BookingId, StringComparer.Ordinal))
        {
            bookings.AddRow(
                Markup.Escape(state.LecturerId), Markup.Escape(state.BookingId), state.Version.ToString(), state.Status.ToString(),
                state.StartsAtUtc.ToString("yyyy-MM-dd HH:mm"), state.DurationMinutes.ToString(), Markup.Escape(state.LecturerTimeZone),
                state.RecordingConsent.Both ? "both consented" : "no");
        }

        console.Write(bookings);
    }
}
