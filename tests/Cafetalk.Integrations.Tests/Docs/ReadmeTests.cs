using System.CommandLine;
using System.Text;
using System.Text.RegularExpressions;
using Cafetalk.Integrations.Cli;
using Cafetalk.Integrations.Sandbox;

namespace Cafetalk.Integrations.Tests.Docs;

/// <summary>The README a newcomer reads first: short, its command table true to the real command tree, its links alive.</summary>
public sealed partial class ReadmeTests
{
    private const int MaxReadmeLines = 200;
    private const int MaxProseLineLength = 200;

    private static readonly string Root = RepositoryRoot.Find();

    [Fact]
    public void Readme_IsShortEnoughToReadInFiveMinutes()
    {
        var lines = File.ReadAllLines(Path.Combine(Root, "README.md"));

        Assert.True(lines.Length <= MaxReadmeLines, $"README.md has {lines.Length} lines; keep it at most {MaxReadmeLines} and move detail to docs/ or a folder README.");
        var longProse = lines.Select((line, i) => (line, number: i + 1))
            .Where(l => l.line.Length > MaxProseLineLength && !l.line.StartsWith('|'))
            .Select(l => $"line {l.number} ({l.line.Length} characters)");
        Assert.Empty(longProse);
    }

    [Fact]
    public void Readme_TestCommand_IsTheOneCiRuns()
    {
        var ci = File.ReadAllLines(Path.Combine(Root, ".ci", "run")).Single(l => l.StartsWith("exec ", StringComparison.Ordinal));
        var command = ci["exec ".Length..].Trim();

        Assert.Contains($"`{command}`", File.ReadAllText(Path.Combine(Root, "README.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void Readme_CommandTable_ListsEveryCommandOfTheRealCommandTree_AndNoOther()
    {
        var documented = ReadmeCommandRows().Select(r => r.Command).ToList();
        var real = RunnableCommands(CliApplication.BuildRootCommand(TextWriter.Null, TextWriter.Null)).Select(c => c.Path).ToList();

        Assert.Empty(documented.GroupBy(c => c).Where(g => g.Count() > 1).Select(g => $"'{g.Key}' has more than one row"));
        Assert.Empty(documented.Except(real).Select(c => $"README lists '{c}', which the CLI does not have"));
        Assert.Empty(real.Except(documented).Select(c => $"the CLI has '{c}', which README's command table does not list"));
    }

    [Fact]
    public void Readme_CommandTable_NamesOnlyOptionsTheCommandHas()
    {
        var commands = RunnableCommands(CliApplication.BuildRootCommand(TextWriter.Null, TextWriter.Null)).ToDictionary(c => c.Path, c => c.Command);
        var wrong = new List<string>();
        foreach (var (command, usage) in ReadmeCommandRows())
        {
            if (!commands.TryGetValue(command, out var real))
            {
                continue; // Reported by the command-tree test.
            }

            var names = real.Options.SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet(StringComparer.Ordinal);
            wrong.AddRange(OptionName().Matches(usage).Select(m => m.Value).Where(o => !names.Contains(o)).Select(o => $"'{command}' has no option {o}"));
        }

        Assert.Empty(wrong);
    }

    [Fact]
    public void Readme_Docs_AndFolderReadmes_EveryRelativeLinkResolves()
    {
        var broken = new List<string>();
        foreach (var file in MarkdownFiles())
        {
            foreach (Match link in MarkdownLink().Matches(File.ReadAllText(file)))
            {
                var target = link.Groups["target"].Value;
                if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    continue;
                }

                var hash = target.IndexOf('#', StringComparison.Ordinal);
                var path = hash < 0 ? target : target[..hash];
                var anchor = hash < 0 ? null : target[(hash + 1)..];
                var resolved = path.Length == 0 ? file : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, path));
                var name = Path.GetRelativePath(Root, file);
                if (!File.Exists(resolved) && !Directory.Exists(resolved))
                {
                    broken.Add($"{name}: {target} (no such file)");
                }
                else if (anchor is not null && resolved.EndsWith(".md", StringComparison.Ordinal) && !HeadingAnchors(resolved).Contains(anchor))
                {
                    broken.Add($"{name}: {target} (no such heading)");
                }
            }
        }

        Assert.Empty(broken);
    }

    public static TheoryData<string> CapabilityFolders() =>
        [.. Architecture.CoreLayers.Order.SelectMany(layer => layer.Folders).Where(folder => folder != Architecture.CoreLayers.Root)];

    [Theory]
    [MemberData(nameof(CapabilityFolders))]
    public void EveryCapabilityFolder_HasItsOwnReadme(string folder)
    {
        Assert.True(File.Exists(Path.Combine(Root, "src", "Cafetalk.Integrations", folder, "README.md")), $"src/Cafetalk.Integrations/{folder}/README.md is missing");
    }

    [Fact]
    public void HeadingAnchors_FollowGitHubsSlugs()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "# Reliability and security\n## Pipeline: queue → converge\n### `bench`\n## Faults\n## Faults\n```\n# not a heading\n```\n");

            Assert.Equal(["reliability-and-security", "pipeline-queue--converge", "bench", "faults", "faults-1"], HeadingAnchors(file));
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The command table's rows: the command path (words before the first option) and the whole usage cell.</summary>
    private static IEnumerable<(string Command, string Usage)> ReadmeCommandRows()
    {
        var lines = File.ReadAllLines(Path.Combine(Root, "README.md"));
        var start = Array.FindIndex(lines, l => l.StartsWith("## Commands", StringComparison.Ordinal));
        Assert.True(start >= 0, "README.md has no '## Commands' section");
        foreach (var line in lines.Skip(start + 1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal)))
        {
            var row = CommandRow().Match(line);
            if (row.Success)
            {
                var usage = row.Groups["usage"].Value.Replace("\\|", "|", StringComparison.Ordinal);
                var words = usage.Split(' ', StringSplitOptions.RemoveEmptyEntries).TakeWhile(w => char.IsAsciiLetterLower(w[0]));
                yield return (string.Join(' ', words), usage);
            }
        }
    }

    private static IEnumerable<(string Path, Command Command)> RunnableCommands(Command command, string prefix = "")
    {
        foreach (var sub in command.Subcommands.Where(c => !c.Hidden))
        {
            var path = prefix.Length == 0 ? sub.Name : $"{prefix} {sub.Name}";
            var visible = sub.Subcommands.Where(c => !c.Hidden).ToList();
            if (sub.Action is not null || visible.Count == 0)
            {
                yield return (path, sub); // A command a user runs (bench runs itself; its worker subcommand is hidden).
            }

            foreach (var runnable in RunnableCommands(sub, path))
            {
                yield return runnable;
            }
        }
    }

    private static IEnumerable<string> MarkdownFiles()
    {
        yield return Path.Combine(Root, "README.md");
        foreach (var doc in Directory.EnumerateFiles(Path.Combine(Root, "docs"), "*.md"))
        {
            yield return doc;
        }

        foreach (var readme in Directory.EnumerateFiles(Path.Combine(Root, "src"), "README.md", SearchOption.AllDirectories))
        {
            yield return readme;
        }
    }

    /// <summary>GitHub's anchors for a file's headings: lower case, punctuation dropped, spaces to '-', repeats numbered.</summary>
    private static List<string> HeadingAnchors(string file)
    {
        var anchors = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var fenced = false;
        foreach (var line in File.ReadLines(file))
        {
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                fenced = !fenced;
            }

            var heading = fenced ? Match.Empty : Heading().Match(line);
            if (!heading.Success)
            {
                continue;
            }

            var slug = new StringBuilder();
            foreach (var c in heading.Groups["text"].Value.Trim().ToLowerInvariant())
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_')
                {
                    slug.Append(c);
                }
                else if (c == ' ')
                {
                    slug.Append('-');
                }
            }

            var anchor = slug.ToString();
            anchors.Add(seen.TryGetValue(anchor, out var count) ? $"{anchor}-{count}" : anchor);
            seen[anchor] = count + 1;
        }

        return anchors;
    }

    [GeneratedRegex(@"^\| `(?<usage>[^`]+)` \|")]
    private static partial Regex CommandRow();

    [GeneratedRegex(@"--[a-z][a-z0-9-]*")]
    private static partial Regex OptionName();

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"^#{1,6} (?<text>.+)$")]
    private static partial Regex Heading();
}
