using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace Cafetalk.Integrations.Cli;

/// <summary>
/// The settings file <c>serve --sandbox --write-settings</c> writes and the operator commands read with <c>--settings</c>:
/// one JSON object of configuration keys (<c>Zoom:ApiBaseAddress</c>), so a command reaches the same Sandbox as the server.
/// </summary>
internal static class CliSettingsFile
{
    public static Option<FileInfo> CreateOption()
    {
        var option = new Option<FileInfo>("--settings")
        {
            Description = "Read settings (storage, provider addresses and keys) from this file, as written by 'serve --sandbox --write-settings'.",
            HelpName = "FILE.json",
        };
        option.AcceptExistingOnly();
        return option;
    }

    public static IReadOnlyDictionary<string, string?> Read(FileInfo file) =>
        new ConfigurationBuilder().AddJsonFile(file.FullName, optional: false).Build()
            .AsEnumerable().Where(s => s.Value is not null).ToDictionary(s => s.Key, s => s.Value, StringComparer.OrdinalIgnoreCase);

    /// <summary>Writes <paramref name="settings"/> readable by the current user only: they hold the Sandbox's keys.</summary>
    public static async Task WriteAsync(string path, IReadOnlyDictionary<string, string?> settings, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var stream = new FileStream(path, options);
        var sorted = new SortedDictionary<string, string?>(settings.ToDictionary(s => s.Key, s => s.Value), StringComparer.Ordinal);
        await JsonSerializer.SerializeAsync(stream, sorted, new JsonSerializerOptions { WriteIndented = true }, cancellationToken);
    }
}
