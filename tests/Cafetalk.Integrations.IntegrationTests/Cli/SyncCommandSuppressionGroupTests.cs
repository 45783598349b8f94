using Cafetalk.Integrations.IntegrationTests.Infrastructure;

namespace Cafetalk.Integrations.IntegrationTests.Cli;

/// <summary><c>sync</c> with a suppression group the mail service lacks: one clear error naming the setting, exit 1.</summary>
public sealed class SyncCommandSuppressionGroupTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task Sync_WithASuppressionGroupTheMailServiceLacks_StopsNamingTheSetting()
    {
        await fixture.Storage.EnsureProvisionedAsync();
        var settings = fixture.Sandbox.Settings().Where(s => s.Key != "AzureWebJobsStorage").ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);
        settings["Newsletter__SuppressionGroups__cafetalk-news"] = "999";
        var saved = settings.Keys.ToDictionary(key => key, Environment.GetEnvironmentVariable);
        (int Exit, string Out, string Err) result;
        try
        {
            foreach (var (key, value) in settings)
            {
                Environment.SetEnvironmentVariable(key, value);
            }

            result = await CliRun.RunAsync("sync", "--connection-string", fixture.Sandbox.StorageConnectionString);
        }
        finally
        {
            foreach (var (key, value) in saved)
            {
                Environment.SetEnvironmentVariable(key, value);
            }
        }

        Assert.Equal(1, result.Exit);
        var error = Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: The mail service has no such suppression group: Newsletter__SuppressionGroups__cafetalk-news is 999.", error, StringComparison.Ordinal);
        Assert.Empty(fixture.Sandbox.Mail.GloballySuppressed);
    }
}
