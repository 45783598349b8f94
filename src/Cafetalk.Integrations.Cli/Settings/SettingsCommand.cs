using System.CommandLine;
using Cafetalk.Integrations.Sandbox;

namespace Cafetalk.Integrations.Cli.Settings;

/// <summary><c>settings table</c>: the settings table of docs/settings.md, generated from the options classes.</summary>
internal static class SettingsCommand
{
    public static Command Create(TextWriter stdout)
    {
        var write = new Option<bool>("--write-docs") { Description = $"Write the table into {SettingsDocument.DocumentPath} between the settings markers instead of printing it." };
        var table = new Command("table", "Render every setting the app reads (key, type, default, constraint, description) from the options classes as markdown.\n" +
            "Example: cafetalk-integrations settings table --write-docs") { write };
        table.SetAction(async (parse, cancellationToken) =>
        {
            var section = SettingsDocument.ToMarkdown();
            if (!parse.GetValue(write))
            {
                await stdout.WriteAsync(section);
                return CliApplication.ExitOk;
            }

            var path = Path.Combine(RepositoryRoot.Find(), SettingsDocument.DocumentPath);
            var text = await File.ReadAllTextAsync(path, cancellationToken);
            await File.WriteAllTextAsync(path, SettingsDocument.ReplaceSection(text, section), cancellationToken);
            await stdout.WriteLineAsync($"wrote the settings table to {path}");
            return CliApplication.ExitOk;
        });
        var settings = new Command("settings", "The app's settings, as the options classes define them.");
        settings.Subcommands.Add(table);
        return settings;
    }
}
