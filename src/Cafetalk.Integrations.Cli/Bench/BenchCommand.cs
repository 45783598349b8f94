using System.CommandLine;

namespace Cafetalk.Integrations.Cli.Bench;

/// <summary><c>bench</c>: the end-to-end load run against a private Sandbox.</summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter stdout)
    {
        var scenario = new Option<string[]>("--scenario")
        {
            Description = $"What to measure: {string.Join(", ", BenchRunner.AllScenarios)} or all (repeatable).",
            DefaultValueFactory = _ => ["all"],
            AllowMultipleArgumentsPerToken = true,
            HelpName = "NAME",
        };
        scenario.Validators.Add(r =>
        {
            foreach (var name in r.GetValueOrDefault<string[]>() ?? [])
            {
                if (name != "all" && !BenchRunner.AllScenarios.Contains(name))
                {
                    r.AddError($"--scenario '{name}' is not one of: all, {string.Join(", ", BenchRunner.AllScenarios)}.");
                }
            }
        });
        var bookings = Count("--bookings", "Bookings in the pipeline run, each confirmed, rescheduled and cancelled.", 600, 1, 20_000);
        var lecturers = Count("--lecturers", "Lecturers the pipeline run's bookings spread over (each connected to Google Calendar).", 20, 1, 2_000);
        var poolHosts = Count("--pool-hosts", "Zoom host pool of the pipeline run; 0 gives every lecturer their own Zoom user.", 0, 0, 500);
        var parallelism = Count("--parallelism", "Messages in flight at once (one Functions instance runs 16 + 8).", 16, 1, 256);
        var rateBookings = Count("--rate-bookings", "Bookings queued against Zoom's 20 requests/s.", 600, 10, 20_000);
        var syncLecturers = Count("--sync-lecturers", "Connected lecturers in the nightly-sync run.", 1_000, 1, 10_000);
        var syncBookings = Count("--sync-bookings-per-lecturer", "Bookings per lecturer in the nightly-sync run.", 10, 1, 100);
        var memoryBookings = Count("--memory-bookings", "Bookings the nightly-memory run's table holds.", 100_000, 1_000, 1_000_000);
        var recordingMegabytes = Count("--recording-mb", "Size of the recording the recording run streams from Zoom to Vimeo, in MB.", 200, 1, 4_096);
        var outsideEdits = Count("--outside-edits", "Hand edits in Google per outside-changes run (one with no notification dropped, one with 10% dropped).", 100, 10, 2_000);
        var json = new Option<bool>("--json") { Description = "Print one JSON object and nothing else." };
        var command = new Command("bench", "Measure the pipeline end to end against a private Sandbox: events per second through queue, converge, providers and\n" +
            "ledger beside Azurite's raw rate, storage operations and provider requests per event, Zoom's rate budget, the nightly sync's\n" +
            "requests and peak memory, a large recording streamed from Zoom to Vimeo. Only loopback addresses are used.\n" +
            "Example: cafetalk-integrations bench --scenario pipeline --bookings 600 --parallelism 16 --json")
        {
            scenario, bookings, lecturers, poolHosts, parallelism, rateBookings, syncLecturers, syncBookings, memoryBookings, recordingMegabytes, outsideEdits, json,
        };
        command.Subcommands.Add(RecordingWorkerCommand.Create(stdout));
        command.SetAction(async (parse, cancellationToken) =>
        {
            var chosen = parse.GetValue(scenario) ?? ["all"];
            var scenarios = chosen.Contains("all") ? BenchRunner.AllScenarios.ToHashSet() : chosen.ToHashSet();
            var options = new BenchOptions(scenarios, parse.GetValue(bookings), parse.GetValue(lecturers), parse.GetValue(parallelism), parse.GetValue(rateBookings),
                parse.GetValue(syncLecturers), parse.GetValue(syncBookings), parse.GetValue(memoryBookings), parse.GetValue(recordingMegabytes), parse.GetValue(json), parse.GetValue(outsideEdits), parse.GetValue(poolHosts));
            return await new BenchRunner(CliApplication.CreateConsole(stdout), stdout).RunAsync(options, cancellationToken);
        });
        return command;
    }

    private static Option<int> Count(string name, string description, int defaultValue, int min, int max) =>
        CliOptions.WholeNumber(name, $"{description} Default {defaultValue}.", min, max, defaultValue);
}
