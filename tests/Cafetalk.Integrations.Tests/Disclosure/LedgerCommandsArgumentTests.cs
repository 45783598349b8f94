using Cafetalk.Integrations.Cli;

namespace Cafetalk.Integrations.Tests.Disclosure;

public sealed class LedgerCommandsArgumentTests
{
    [Theory]
    [InlineData("ledger", "export", "--format", "csv")]
    [InlineData("ledger", "export", "--member", "m-1", "--format", "xml")]
    [InlineData("ledger", "verify", "--bogus")]
    public async Task Run_BadArguments_ExitsTwoWithAnError(params string[] args)
    {
        var (code, _, stderr) = await RunAsync(args);

        Assert.Equal(CliApplication.ExitBadArguments, code);
        Assert.StartsWith("error: ", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("digest")]
    [InlineData("purge")]
    public async Task Run_SigningAgainstAzureStorageWithoutTheKeyVaultKey_ExitsTwoBeforeTouchingStorage(string command)
    {
        // An Azure account (not the Sandbox's Azurite) and no Ledger__DigestSigning__KeyId: a per-process key would sign.
        var azure = $"DefaultEndpointsProtocol=https;AccountName=cafetalkledger;AccountKey={Convert.ToBase64String(new byte[64])};EndpointSuffix=core.windows.net";

        var (code, stdout, stderr) = await RunAsync("ledger", command, "--connection-string", azure);

        Assert.Equal(CliApplication.ExitBadArguments, code);
        Assert.Equal("error: no digest key: set Ledger__DigestSigning__KeyId to the Key Vault key; a throwaway key's line could never be checked and would stay in the log as a forgery.", stderr.Trim());
        Assert.Empty(stdout);
    }

    [Fact]
    public async Task Run_VerifyWithoutAnyStorage_ExitsTwoNamingTheSetting()
    {
        var previous = Environment.GetEnvironmentVariable("AzureWebJobsStorage");
        Environment.SetEnvironmentVariable("AzureWebJobsStorage", null);
        try
        {
            var (code, _, stderr) = await RunAsync("ledger", "verify");

            Assert.Equal(CliApplication.ExitBadArguments, code);
            Assert.Equal("error: no storage to read: set the AzureWebJobsStorage environment variable or pass --connection-string.", stderr.Trim());
        }
        finally
        {
            Environment.SetEnvironmentVariable("AzureWebJobsStorage", previous);
        }
    }

    [Fact]
    public async Task Run_PolicyTable_PrintsTheMarkdownTable()
    {
        var (code, stdout, _) = await RunAsync("policy", "table");

        Assert.Equal(CliApplication.ExitOk, code);
        Assert.Contains("| Zoom Video Communications, Inc. (United States; foreign transfer, APPI Art. 28) | `zoom.lesson-meeting`", stdout, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await CliApplication.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
