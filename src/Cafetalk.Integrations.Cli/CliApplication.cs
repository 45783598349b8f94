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

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = BuildRootCommand(stdout, stderr);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await stderr.WriteLineAsync($"error: {error.Message}");
            }

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
    }

    internal static RootCommand BuildRootCommand(TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("Cafetalk.Integrations: keeps Zoom, Google Calendar and Vimeo in step with bookings, sharing only what the privacy policy allows.");
        root.Subcommands.Add(DemoCommand(stdout));
        foreach (var command in Commands.IntakeCommands.Create(stdout))
        {
            root.Subcommands.Add(command);
        }

        root.Subcommands.Add(Commands.CalendarCommands.ConnectLink(stdout));
        LedgerCommands.AddTo(root, stdout);
        root.Subcommands.Add(Commands.NewsletterCommands.Create(stdout));
        root.Subcommands.Add(Commands.ServeCommand.Create(stdout));
        root.Subcommands.Add(Commands.EraseCommand.Create(stdout, stderr));
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
            Description = "CloudEvents to publish instead of the built-in sample, one JSON event per line. Lines that are not valid events are counted as rejected.",
            HelpName = "FILE.jsonl",
        };
        events.AcceptExistingOnly();
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables." };
        var command = new Command("demo", "Start the Sandbox, publish a sample of booking events to the queue, drain them through intake and report.\n" +
            "Example: cafetalk-integrations demo --events ../shared/samples/booking-events.sample.jsonl --json")
        {
            events,
            json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var console = CreateConsole(stdout);
            return await new DemoRunner(console, stdout).RunAsync(parse.GetValue(events), parse.GetValue(json), cancellationToken);
        });
        return command;
    }
}
