using System.CommandLine;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Cli;

/// <summary>
/// How operator commands reach a real storage account: <c>--connection-string</c>, the <c>AzureWebJobsStorage</c>
/// environment variable, or <c>--account NAME</c> with DefaultAzureCredential (az login, managed identity).
/// </summary>
internal sealed class CliStorage
{
    public Option<string> ConnectionString { get; } = new("--connection-string")
    {
        Description = "Storage connection string (default: the AzureWebJobsStorage environment variable).",
        HelpName = "CONNECTION",
    };

    public Option<string> Account { get; } = new("--account")
    {
        Description = "Storage account name, reached with DefaultAzureCredential instead of a connection string.",
        HelpName = "NAME",
    };

    /// <summary>A settings file (<c>serve --sandbox --write-settings</c>): storage and the provider settings the command needs.</summary>
    public Option<FileInfo> SettingsFile { get; } = CliSettingsFile.CreateOption();

    public void AddTo(Command command)
    {
        command.Options.Add(ConnectionString);
        command.Options.Add(Account);
        command.Options.Add(SettingsFile);
        command.Validators.Add(result =>
        {
            if (result.GetValue(ConnectionString) is not null && result.GetValue(Account) is not null)
            {
                result.AddError("Use either --connection-string or --account, not both.");
            }
            else if (result.GetValue(ConnectionString) is null && result.GetValue(Account) is null && result.GetValue(SettingsFile) is null
                     && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(StorageAccount.SettingName)))
            {
                result.AddError($"No storage account: pass --connection-string, --account or --settings, or set {StorageAccount.SettingName}.");
            }
            else if (result.GetValue(Account) is { } account && !IsAccountName(account))
            {
                result.AddError("--account must be a storage account name: 3-24 lowercase letters and digits.");
            }
        });
    }

    /// <summary>The settings a command's services are built from.</summary>
    public IReadOnlyDictionary<string, string?> Settings(ParseResult parse)
    {
        // The file's settings first; storage named on the command line wins over the file's.
        var settings = parse.GetValue(SettingsFile) is { } file
            ? new Dictionary<string, string?>(CliSettingsFile.Read(file), StringComparer.OrdinalIgnoreCase)
            : new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (parse.GetValue(Account) is { } account)
        {
            settings.Remove(StorageAccount.SettingName);
            settings[$"{StorageAccount.SettingName}:tableServiceUri"] = $"https://{account}.table.core.windows.net/";
            settings[$"{StorageAccount.SettingName}:queueServiceUri"] = $"https://{account}.queue.core.windows.net/";
            settings[$"{StorageAccount.SettingName}:blobServiceUri"] = $"https://{account}.blob.core.windows.net/";
        }
        else if (parse.GetValue(ConnectionString) is { } connectionString)
        {
            settings[StorageAccount.SettingName] = connectionString;
        }
        else if (!settings.ContainsKey(StorageAccount.SettingName))
        {
            settings[StorageAccount.SettingName] = Environment.GetEnvironmentVariable(StorageAccount.SettingName);
        }

        return settings;
    }

    private static bool IsAccountName(string name) =>
        name.Length is >= 3 and <= 24 && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c));
}
