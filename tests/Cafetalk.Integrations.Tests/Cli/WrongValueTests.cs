using System.CommandLine;
using System.CommandLine.Help;
using Cafetalk.Integrations.Cli;

namespace Cafetalk.Integrations.Tests.Cli;

/// <summary>
/// Every option of every command, given a value of the wrong type, is one <c>error:</c> line naming the option and exit 2.
/// The cases come from walking the command tree, so a new option is covered (or fails here for want of a wrong value).
/// </summary>
public sealed class WrongValueTests
{
    // A value every command accepts for the options its validators need, so a case breaks only the option under test.
    private static readonly Dictionary<string, string> Accepted = new(StringComparer.Ordinal)
    {
        ["--connection-string"] = "UseDevelopmentStorage=true",
        ["--member"] = "m_1",
        ["--lecturer"] = "lec_1",
        ["--host"] = "zoom-host-1",
        ["--file"] = typeof(WrongValueTests).Assembly.Location,
        ["--private-key"] = typeof(WrongValueTests).Assembly.Location,
    };

    private static readonly HashSet<string> Switches = ["--sandbox"];

    // --account and --connection-string exclude each other: the case for one leaves the other out.
    private static readonly Dictionary<string, string> Excludes = new(StringComparer.Ordinal) { ["--account"] = "--connection-string" };

    public static TheoryData<string, string> Cases()
    {
        var cases = new TheoryData<string, string>();
        foreach (var (path, command) in Commands(CliApplication.BuildRootCommand(TextWriter.Null, TextWriter.Null), []))
        {
            // Free text (a string no validator checks) has no wrong type; every other option is a case.
            foreach (var option in command.Options.Where(o => o is not HelpOption and not VersionOption && !IsFreeText(o)))
            {
                cases.Add(string.Join(' ', path), option.Name);
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Run_OptionGivenAValueOfTheWrongType_OneErrorLineNamingItAndExitTwo(string commandPath, string optionName)
    {
        var command = Find(commandPath);
        var option = command.Options.Single(o => o.Name == optionName);
        var wrong = WrongValue(option);

        var args = commandPath.Split(' ').ToList();
        foreach (var other in command.Options.Where(o => o.Name != optionName && (!Excludes.TryGetValue(optionName, out var excluded) || o.Name != excluded)))
        {
            if (Switches.Contains(other.Name))
            {
                args.Add(other.Name);
            }
            else if (Accepted.TryGetValue(other.Name, out var value))
            {
                args.AddRange([other.Name, value]);
            }
        }

        args.AddRange([optionName, wrong]);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await CliApplication.RunAsync([.. args], stdout, stderr);

        var errorLines = stderr.ToString().Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
        Assert.Equal(CliApplication.ExitBadArguments, code);
        var line = Assert.Single(errorLines);
        Assert.Contains(optionName, line, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stderr.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr.ToString(), StringComparison.Ordinal);
        Assert.Empty(stdout.ToString());
    }

    [Fact]
    public void Cases_CoverTheNewcomersTypoAndEveryCommand()
    {
        var cases = Cases().Select(c => ((string)c[0], (string)c[1])).ToList();

        Assert.Contains(("demo", "--bookings"), cases);
        Assert.Contains(("serve", "--port"), cases);
        Assert.Contains(("ledger unseal", "--private-key"), cases);
        Assert.True(cases.Count >= 30, $"only {cases.Count} options found: is the command tree walk broken?");
    }

    private static bool IsFreeText(Option option) => option.ValueType == typeof(string) && option.Validators.Count == 0;

    private static string WrongValue(Option option)
    {
        var type = option.ValueType;
        if (type == typeof(int))
        {
            return "not-a-number";
        }

        if (type == typeof(bool))
        {
            return "not-a-switch-value";
        }

        if (type == typeof(FileInfo))
        {
            return "/no-such-folder/events.jsonl";
        }

        Assert.True(type == typeof(string[]) || type == typeof(string), $"{option.Name} is a {type.Name}: add a wrong value for that type here.");
        return "Not one of the choices!";
    }

    private static Command Find(string commandPath)
    {
        Command command = CliApplication.BuildRootCommand(TextWriter.Null, TextWriter.Null);
        foreach (var name in commandPath.Split(' '))
        {
            command = command.Subcommands.Single(c => c.Name == name);
        }

        return command;
    }

    private static IEnumerable<(List<string> Path, Command Command)> Commands(Command parent, List<string> path)
    {
        foreach (var command in parent.Subcommands)
        {
            var here = path.Append(command.Name).ToList();
            yield return (here, command);
            foreach (var nested in Commands(command, here))
            {
                yield return nested;
            }
        }
    }
}
