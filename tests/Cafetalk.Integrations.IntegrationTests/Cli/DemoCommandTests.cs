using System.Text.Json;
using Cafetalk.Integrations.Cli;

namespace Cafetalk.Integrations.IntegrationTests.Cli;

/// <summary>The demo as a new user runs it: each run starts and stops its own Sandbox.</summary>
public sealed class DemoCommandTests
{
    private static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await CliApplication.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Demo_Json_ReportsEveryEventOnceWithTheReasonsForRejections()
    {
        var (exit, output, _) = await RunAsync("demo", "--json");

        Assert.Equal(0, exit);
        var events = JsonDocument.Parse(output).RootElement.GetProperty("events");
        Assert.Equal(18, events.GetProperty("received").GetInt32());
        Assert.Equal(10, events.GetProperty("processed").GetInt32());
        Assert.Equal(8, events.GetProperty("rejected").GetInt32());
        var reasons = events.GetProperty("rejections").EnumerateArray()
            .ToDictionary(r => r.GetProperty("reason").GetString()!, r => r.GetProperty("count").GetInt32());
        Assert.Equal(new Dictionary<string, int>
        {
            ["not-json"] = 1, ["not-a-cloudevent"] = 1, ["unknown-type"] = 1, ["duration-out-of-range"] = 1,
            ["unknown-time-zone"] = 1, ["startsAt-not-utc"] = 1, ["startsAt-too-far-out"] = 1, ["missing-field"] = 1,
        }, reasons);
    }

    [Fact]
    public async Task Demo_EventsFileWithBadLines_CountsThemAsRejectedAndGoesOn()
    {
        var file = Path.GetTempFileName();
        try
        {
            var sample = await File.ReadAllLinesAsync(Path.Combine(AppContext.BaseDirectory, "Samples", "booking-events.sample.jsonl"));
            await File.WriteAllLinesAsync(file, [sample[0], "this line is not json", sample[0], "", "{\"specversion\":\"1.0\"}", .. sample[1..]]);

            var (exit, output, _) = await RunAsync("demo", "--events", file, "--json");

            Assert.Equal(0, exit);
            var events = JsonDocument.Parse(output).RootElement.GetProperty("events");
            Assert.Equal(10, events.GetProperty("received").GetInt32());
            Assert.Equal(8, events.GetProperty("processed").GetInt32());
            Assert.Equal(2, events.GetProperty("rejected").GetInt32());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Demo_TextOutput_ShowsTheCountsAndTheDesiredState()
    {
        var (exit, output, _) = await RunAsync("demo");

        Assert.Equal(0, exit);
        Assert.Contains("received", output, StringComparison.Ordinal);
        Assert.Contains("duration-out-of-range", output, StringComparison.Ordinal);
        Assert.Contains("bk_demo_0002", output, StringComparison.Ordinal);
        Assert.Contains("Cancelled", output, StringComparison.Ordinal);
        Assert.DoesNotContain("hanako", output, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("demo", "--events", "/nonexistent/events.jsonl")]
    [InlineData("demo", "--bogus")]
    [InlineData("no-such-command")]
    public async Task Cli_BadArguments_ExitWith2AndOneClearError(params string[] args)
    {
        var (exit, output, error) = await RunAsync(args);

        Assert.Equal(2, exit);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, output);
    }
}
