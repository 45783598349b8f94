using System.CommandLine;
using System.Text.Json;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Cli.Demo;
using Cafetalk.Integrations.Cli.Draining;
using Cafetalk.Integrations.Operations;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Cafetalk.Integrations.Cli.Commands;

/// <summary>Operator commands around the booking-events queue: ingest, drain, replay-poison.</summary>
internal static class IntakeCommands
{
    public static IEnumerable<Command> Create(TextWriter stdout)
    {
        yield return Ingest(stdout);
        yield return Drain(stdout);
        yield return ReplayPoison(stdout);
    }

    private static Command Ingest(TextWriter stdout)
    {
        var storage = new CliStorage();
        var file = new Option<FileInfo>("--file") { Description = "CloudEvents, one JSON event per line.", HelpName = "FILE.jsonl", Required = true };
        file.AcceptExistingOnly();
        var command = new Command("ingest", "Publish events from a file to the booking-events queue, as the booking system would.\n" +
            "Example: cafetalk-integrations ingest --file events.jsonl --account cafetalkprod") { file };
        storage.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var services = CliHost.Build(storage.Settings(parse));
            var lines = await EventPublisher.ReadLinesAsync(parse.GetValue(file)!, cancellationToken);
            var publisher = new EventPublisher(services.GetRequiredService<StorageAccount>(), services.GetRequiredService<BookingEventIntake>());
            var direct = await publisher.PublishAsync(lines, cancellationToken);
            await stdout.WriteLineAsync($"published {lines.Count - direct.Count} event(s) to {QueueNames.BookingEvents}; " +
                $"{direct.Count} too large for a queue message, filed in {QueueNames.BookingEventsPoison}");
            return CliApplication.ExitOk;
        });
        return command;
    }

    private static Command Drain(TextWriter stdout)
    {
        var storage = new CliStorage();
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables." };
        var command = new Command("drain", "Process every message waiting on booking-events with the functions' own intake, then stop.\n" +
            "Example: cafetalk-integrations drain --connection-string \"$AzureWebJobsStorage\" --json") { json };
        storage.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var services = CliHost.Build(storage.Settings(parse));
            var drainer = ActivatorUtilities.CreateInstance<QueueDrainer>(services);
            var tally = await drainer.DrainAsync(cancellationToken: cancellationToken);
            if (parse.GetValue(json))
            {
                await stdout.WriteLineAsync(JsonSerializer.Serialize(DemoReport.From(tally)));
            }
            else
            {
                TallyView.Write(CliApplication.CreateConsole(stdout), tally);
            }

            return CliApplication.ExitOk;
        });
        return command;
    }

    private static Command ReplayPoison(TextWriter stdout)
    {
        var storage = new CliStorage();
        var queue = new Option<string>("--queue") { Description = "The poison queue to replay.", DefaultValueFactory = _ => QueueNames.BookingEventsPoison, HelpName = "NAME" };
        queue.Validators.Add(r =>
        {
            if (!r.GetValueOrDefault<string>().EndsWith("-poison", StringComparison.Ordinal))
            {
                r.AddError("--queue must name a poison queue (ending in -poison).");
            }
        });
        var dryRun = new Option<bool>("--dry-run") { Description = "List what would be replayed and why; change nothing." };
        var all = new Option<bool>("--all") { Description = "Also replay messages that would be rejected again (they return to the poison queue)." };
        var max = CliOptions.WholeNumber("--max", "Replay at most this many messages.", 1, int.MaxValue, defaultValue: 1000);
        var json = new Option<bool>("--json") { Description = "Print one JSON object per message instead of a table." };
        var command = new Command("replay-poison", "Put poisoned messages back on the queue they came from once the cause is fixed. " +
            "Only messages that now pass validation go back unless --all is given.\n" +
            "Example: cafetalk-integrations replay-poison --dry-run --account cafetalkprod") { queue, dryRun, all, max, json };
        storage.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var services = CliHost.Build(storage.Settings(parse));
            var items = await services.GetRequiredService<PoisonReplayer>().ReplayAsync(
                parse.GetValue(queue)!, parse.GetValue(dryRun), parse.GetValue(all), parse.GetValue(max), cancellationToken);
            if (parse.GetValue(json))
            {
                foreach (var item in items)
                {
                    await stdout.WriteLineAsync(JsonSerializer.Serialize(new
                    {
                        messageId = item.MessageId, correlationId = item.CorrelationId, reason = item.OriginalReason,
                        stillRejected = item.StillRejected?.Reason, replayed = item.Replayed,
                    }));
                }

                return CliApplication.ExitOk;
            }

            var console = CliApplication.CreateConsole(stdout);
            var table = new Table().AddColumns("correlation id", "refused for", "now", "action");
            foreach (var item in items)
            {
                table.AddRow(Markup.Escape(item.CorrelationId), Markup.Escape(item.OriginalReason),
                    item.StillRejected is null ? "valid" : Markup.Escape(item.StillRejected.Reason),
                    item.Replayed ? $"replayed to {item.SourceQueue}" : parse.GetValue(dryRun) ? "would " + (item.StillRejected is null || parse.GetValue(all) ? "replay" : "stay") : "stays");
            }

            console.Write(table);
            console.MarkupLine($"{items.Count(i => i.Replayed)} replayed, {items.Count(i => !i.Replayed)} left in {Markup.Escape(parse.GetValue(queue)!)}");
            return CliApplication.ExitOk;
        });
        return command;
    }
}
