using System.Text.Json;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Contracts;

namespace Cafetalk.Integrations.IntegrationTests.Cli;

/// <summary>The demo's wire log, line by line, against the providers' contracts: what a reviewer of the log would check.</summary>
public sealed class DemoWireLogContractTests
{
    [Fact]
    public async Task DemoWireLog_EveryLine_KeepsItsProvidersContract()
    {
        var wireLog = Path.GetTempFileName();
        try
        {
            var (exit, _, _) = await CliRun.RunAsync("demo", "--json", "--wire-log", wireLog);
            Assert.Equal(0, exit);

            var lines = (await File.ReadAllLinesAsync(wireLog)).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<WireRequest>(l)!).ToList();
            var (violations, checkedCounts) = WireLogContracts.Check(lines);

            Assert.All(lines, l => Assert.NotEmpty(l.HeaderNames));
            Assert.All(lines, l => Assert.False(string.IsNullOrEmpty(l.AuthScheme)));
            Assert.Contains(lines, l => l.Provider == "mail" && l.AuthScheme == "Bearer" && l.HeaderNames.Contains("Authorization"));
            Assert.Empty(violations.Select(v => v.ToString()).Distinct());
            Assert.All(ProviderContract.Available(), p => Assert.True(checkedCounts.GetValueOrDefault(p) > 0, $"the demo sent nothing to {p}"));
        }
        finally
        {
            File.Delete(wireLog);
        }
    }

    [Fact]
    public void WireLogLine_WithATokenInItsQuery_Fails()
    {
        var line = new WireRequest("mail", "GET", "/v3/asm/groups/101/suppressions", "?access_token=[redacted]", string.Empty, null, ["Host"], "none");

        var (violations, _) = WireLogContracts.Check([line]);

        Assert.Contains(violations, v => v.Problem.StartsWith("credential in query parameter 'access_token'", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Problem.StartsWith("auth scheme 'none'", StringComparison.Ordinal));
    }
}
