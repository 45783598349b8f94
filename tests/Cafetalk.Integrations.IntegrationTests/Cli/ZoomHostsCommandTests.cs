using System.Text.Json;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Cli;

/// <summary><c>zoom-hosts add|list</c> against Azurite, as an operator types them; the converger's pool reads what they wrote.</summary>
public sealed class ZoomHostsCommandTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) =>
        CliRun.RunAsync([.. args, "--connection-string", fixture.Sandbox.StorageConnectionString]);

    [Fact]
    public async Task AddThenList_ShowsEachHostWithItsConcurrencyAndLimit_AndThePoolReadsThem()
    {
        var emptyList = await RunAsync("zoom-hosts", "list");
        var first = await RunAsync("zoom-hosts", "add", "--host", "cli-host-b", "--concurrency", "2", "--daily-limit", "60");
        var second = await RunAsync("zoom-hosts", "add", "--host", "cli-host-a");
        var again = await RunAsync("zoom-hosts", "add", "--host", "cli-host-a", "--daily-limit", "80");
        var list = await RunAsync("zoom-hosts", "list", "--json");

        Assert.Equal(0, emptyList.Exit);
        Assert.Contains("the pool is empty", emptyList.Out, StringComparison.Ordinal);
        Assert.Equal([0, 0, 0, 0], new[] { first.Exit, second.Exit, again.Exit, list.Exit });
        var hosts = JsonDocument.Parse(list.Out).RootElement.EnumerateArray()
            .Select(h => (h.GetProperty("hostId").GetString(), h.GetProperty("concurrency").GetInt32(), h.GetProperty("dailyCreateUpdateLimit").GetInt32())).ToList();
        Assert.Equal([("cli-host-a", 1, 80), ("cli-host-b", 2, 60)], hosts);
        using var services = fixture.CreateServices();
        Assert.Equal([new ZoomPoolHost("cli-host-a", 1, 80), new ZoomPoolHost("cli-host-b", 2, 60)], await services.GetRequiredService<ZoomHostPool>().ListAsync());
    }

    [Theory]
    [InlineData("zoom-hosts", "add", "--host", "someone@example.com")]
    [InlineData("zoom-hosts", "add", "--host", "cli-host-c", "--concurrency", "3")]
    [InlineData("zoom-hosts", "add", "--host", "cli-host-c", "--daily-limit", "0")]
    [InlineData("zoom-hosts", "add")]
    public async Task Add_BadArguments_OneErrorLineAndExit2_NothingWritten(params string[] args)
    {
        var run = await RunAsync(args);

        Assert.Equal(2, run.Exit);
        Assert.Single(run.Err.Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.DoesNotContain("someone@example.com", run.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("cli-host-c", (await RunAsync("zoom-hosts", "list")).Out, StringComparison.Ordinal);
    }
}
