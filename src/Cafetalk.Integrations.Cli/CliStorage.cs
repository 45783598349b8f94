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

    public void AddTo(Command command)
    {
        command.Options.Add(ConnectionString);
        command.Options.Add(Account);
        command.Validators.Add(result =>
        {
            if (result.GetValue(ConnectionString) is not null && result.GetValue(Account) is not null)
            {
                result.AddError("Use either --connection-string or --account, not both.");
            }
            else if (result.GetValue(ConnectionString) is null && result.GetValue(Account) is null
                     && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(StorageAccount.SettingName)))
            {
                result.AddError($"No storage account: pass --connection-string or --account, or set {StorageAccount.SettingName}.");
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
        if (parse.GetValue(Account) is { } account)
        {
            return new Dictionary<string, string?>
            {
                [$"{StorageAccount.SettingName}:tableServiceUri"] = $"https://{account}.table.core.windows.net/",
                [$"{StorageAccount.SettingName}:queueServiceUri"] = $"https://{account}.queue.core.windows.net/",
                [$"{StorageAccount.SettingName}:blobServiceUri"] = $"https://{account}.blob.core.windows.net/",
            };
        }

        return new Dictionary<string, string?>
        {
            [StorageAccount.SettingName] = parse.GetValue(ConnectionString) ?? Environment.GetEnvironmentVariable(StorageAccount.SettingName),
        };
    }

    private static bool IsAccountName(string name) =>
        name.Length is >= 3 and <= 24 && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c));
}
