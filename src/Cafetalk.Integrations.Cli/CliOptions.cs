using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Cafetalk.Integrations.Cli;

/// <summary>
/// Options whose values are checked while parsing, so a typo is one <c>error:</c> line naming the option and exit 2.
/// System.CommandLine runs an option's validators before it converts the value, so a validator that reads a value of
/// the wrong type throws instead of reporting; these options parse and check in one place instead.
/// </summary>
internal static class CliOptions
{
    /// <summary>A whole number between <paramref name="min"/> and <paramref name="max"/>.</summary>
    public static Option<int> WholeNumber(string name, string description, int min, int max, int? defaultValue = null, string helpName = "N")
    {
        var option = new Option<int>(name)
        {
            Description = description,
            HelpName = helpName,
            CustomParser = result => ParseWholeNumber(result, name, min, max, defaultValue ?? 0),
        };
        if (defaultValue is { } value)
        {
            option.DefaultValueFactory = _ => value;
        }

        return option;
    }

    /// <summary>A file the command writes: its folder must exist now, not after a long run has finished.</summary>
    public static Option<FileInfo> OutputFile(string name, string description, string helpName = "FILE.jsonl")
    {
        var option = new Option<FileInfo>(name) { Description = description, HelpName = helpName };
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && Path.GetDirectoryName(Path.GetFullPath(result.Tokens[^1].Value)) is { } folder && !Directory.Exists(folder))
            {
                result.AddError($"{name}: the folder '{folder}' does not exist.");
            }
        });
        return option;
    }

    /// <summary>The one line the first parse error is reported as: it names the option when the parser's own message does not.</summary>
    public static string Describe(ParseResult parsed, IReadOnlyList<string> args)
    {
        var error = parsed.Errors[0];
        var option = error.SymbolResult switch
        {
            OptionResult o => o.Option,
            ArgumentResult { Parent: OptionResult o } => o.Option,
            _ => SwitchGivenAValue(parsed, args),
        };
        if (option is Option<bool> && error.SymbolResult is not OptionResult and not ArgumentResult)
        {
            return $"{option.Name} is a switch and takes no value: {error.Message}";
        }

        return option is null || error.Message.Contains(option.Name, StringComparison.Ordinal) ? error.Message : $"{option.Name}: {error.Message}";
    }

    // A switch never takes the next word, so "--json maybe" leaves "maybe" unmatched: the switch before it is what to name.
    private static Option? SwitchGivenAValue(ParseResult parsed, IReadOnlyList<string> args)
    {
        if (parsed.UnmatchedTokens.Count == 0)
        {
            return null;
        }

        var at = args.ToList().IndexOf(parsed.UnmatchedTokens[0]);
        var before = at > 0 ? args[at - 1] : null;
        return parsed.CommandResult.Command.Options.FirstOrDefault(o => o is Option<bool> && (o.Name == before || o.Aliases.Contains(before ?? string.Empty)));
    }

    private static int ParseWholeNumber(ArgumentResult result, string name, int min, int max, int fallback)
    {
        if (result.Tokens.Count == 0)
        {
            return fallback;
        }

        var text = result.Tokens[^1].Value;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            var range = max == int.MaxValue ? $"of at least {min}" : $"from {min} to {max}";
            result.AddError($"{name} must be a whole number {range}, not '{text}'.");
        }

        return value;
    }
}
