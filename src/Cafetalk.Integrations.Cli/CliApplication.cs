using System.CommandLine;
using Cafetalk.Integrations.Cli.Demo;
using Cafetalk.Integrations.Cli.Ledger;
using Cafetalk.Integrations.Sandbox;
using Spectre.Console;

namespace Cafetalk.Integrations.Cli;

/// <summary>The <c>cafetalk-integrations</c> command line: parses, dispatches, and maps failures to exit codes.</summary>
internal static class CliApplication
{
    public const int ExitOk = 0;
    public const int ExitFailed = 1;
    public const int ExitBadArguments = 2;

    /// <param name="time">The clock the ledger commands use; null: the system's (tests pass the clock their digests were signed on).</param>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, TimeProvider? time = null)
    {
        var root = BuildRootCommand(stdout, stderr, time);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // One line, the first thing to fix: a newcomer's typo must not become a screen of follow-on errors.
            var more = parsed.Errors.Count > 1 ? $" ({parsed.Errors.Count - 1} more after this one)" : string.Empty;
            await stderr.WriteLineAsync($"error: {CliOptions.Describe(parsed, args)}{more}");

            await stderr.WriteLineAsync("Run with --help for usage and an example.");
            return ExitBadArguments;
        }

        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (SandboxException ex)
        {
            await stderr.WriteLineAsync($"error: {ex.Message}");
            return ExitFailed;
        }
        catch (Newsletter.SuppressionGroupNotFoundException ex)
        {
            // A setting to fix, not a crash: the message names it (never an address).
            await stderr.WriteLineAsync($"error: {ex.Message}");
            return ExitFailed;
        }
    }

    internal static RootCommand BuildRootCommand(TextWriter stdout, TextWriter stderr, TimeProvider? time = null)
    {
        var root = new RootCommand("Cafetalk.Integrations: keeps Zoom, Google Calendar and Vimeo in step with bookings, sharing only what the privacy policy allows.");
        root.Subcommands.Add(DemoCommand(stdout));
        root.Subcommands.Add(Bench.BenchCommand.Create(stdout));
        foreach (var command in Commands.IntakeCommands.Create(stdout))
        {
            root.Subcommands.Add(command);
        }

        root.Subcommands.Add(Commands.CalendarCommands.ConnectLink(stdout));
        LedgerCommands.AddTo(root, stdout, time);
        root.Subcommands.Add(Commands.NewsletterCommands.Create(stdout));
        root.Subcommands.Add(Settings.SettingsCommand.Create(stdout));
        root.Subcommands.Add(Settings.NotificationsCommand.Create(stdout));
        root.Subcommands.Add(Commands.ServeCommand.Create(stdout));
        root.Subcommands.Add(Commands.SyncCommand.Create(stdout, stderr));
        root.Subcommands.Add(Commands.EraseCommand.Create(stdout, stderr));
        root.Subcommands.Add(Commands.ZoomHostsCommands.Create(stdout));
        return root;
    }

    /// <summary>A Spectre console on stdout: plain and wide when it is a file or pipe, so output reads and greps well.</summary>
    internal static IAnsiConsole CreateConsole(TextWriter stdout)
    {
        var terminal = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stdout),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!terminal)
        {
            console.Profile.Width = 160;
        }

        return console;
    }

    private static Command DemoCommand(TextWriter stdout)
    {
        var events = new Option<FileInfo>("--events")
        {
            Description = "CloudEvents to publish instead of the generated day, one JSON event per line. Lines that are not valid events are counted as rejected.",
            HelpName = "FILE.jsonl",
        };
        events.AcceptExistingOnly();
        var bookings = CliOptions.WholeNumber("--bookings", "How many bookings the generated day has.", 1, 5000, defaultValue: 12);
        var json = new Option<bool>("--json") { Description = "Print one JSON object: events, providerRequests, ledger, duplicates, leaks." };
        var wireLog = CliOptions.OutputFile("--wire-log", "Write every request the simulators received, one JSON object per line, secrets redacted.");
        var command = new Command("demo", "Start the Sandbox, connect demo lecturers through Google's OAuth flow, publish a day of booking events, run every\n" +
            "function and the nightly jobs, verify the ledger and report what each provider received.\n" +
            "Example: cafetalk-integrations demo --bookings 50 --json --wire-log wire.jsonl")
        {
            events,
            bookings,
            json,
            wireLog,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new DemoOptions(parse.GetValue(events), parse.GetValue(bookings), parse.GetValue(json), parse.GetValue(wireLog));
            return await new DemoRunner(CreateConsole(stdout), stdout).RunAsync(options, cancellationToken);
        });
        return command;
    }
}
