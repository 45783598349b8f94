using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;

namespace Cafetalk.Integrations.IntegrationTests.Cli;

/// <summary>
/// <c>serve --sandbox</c> as a separate process, the way a developer runs it, stopped with SIGINT. It logs at Trace
/// (<c>CAFETALK_LOG_LEVEL</c>) to stderr, which goes to the suite's log capture line by line.
/// </summary>
public sealed class ServeCommandTests
{
    private sealed record RunningCli(Process Process, ConcurrentQueue<string> Errors) : IDisposable
    {
        public void Dispose() => Process.Dispose();
    }

    private static RunningCli StartCli(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "cafetalk-integrations.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["CAFETALK_LOG_LEVEL"] = "Trace";
        var process = Process.Start(start)!;
        var errors = new ConcurrentQueue<string>();
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is not null)
            {
                errors.Enqueue(line.Data);
                LogCapture.Record($"stderr of '{args[0]}'", line.Data);
            }
        };
        process.BeginErrorReadLine();
        return new RunningCli(process, errors);
    }

    /// <summary>The printed secrets and links are the child's: plant them so the scan looks for them in its logs.</summary>
    private static void PlantPrinted(JsonElement info)
    {
        LogCapture.Plant("zoom-webhook-secret", info.GetProperty("zoomWebhookSecret").GetString());
        LogCapture.Plant("function-key", info.GetProperty("functionKey").GetString());
        LogCapture.Plant("connect-ticket", Uri.UnescapeDataString(info.GetProperty("connectUrl").GetString()!.Split("ticket=")[1]));
        foreach (var url in info.GetProperty("unsubscribeUrls").EnumerateArray())
        {
            LogCapture.Plant("unsubscribe-token", Uri.UnescapeDataString(url.GetString()!.Split("?t=")[1]));
        }
    }

    private static async Task<bool> ListensAsync(Uri url)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, url.Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>serve's first stdout line: its addresses (and the Sandbox's secrets, planted for the log scan).</summary>
    private static async Task<JsonElement> ReadServeInfoAsync(System.Diagnostics.Process process)
    {
        var first = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        LogCapture.Record("stdout of 'serve'", first!);
        var info = JsonDocument.Parse(first!).RootElement;
        PlantPrinted(info);
        return info;
    }

    [Fact]
    public async Task Serve_PrintsItsAddresses_ServesTheRoutes_AndStopsCleanlyOnSigint()
    {
        var wireLog = Path.GetTempFileName();
        using var cli = StartCli("serve", "--sandbox", "--wire-log", wireLog);
        var process = cli.Process;
        try
        {
            var info = await ReadServeInfoAsync(process);
            var baseUrl = new Uri(info.GetProperty("baseUrl").GetString()!);
            var unsubscribe = info.GetProperty("unsubscribeUrls")[0].GetString()!;
            var simulators = info.GetProperty("simulators");
            Assert.Equal("127.0.0.1", baseUrl.Host);
            Assert.False(string.IsNullOrEmpty(info.GetProperty("zoomWebhookSecret").GetString()));
            Assert.StartsWith(baseUrl + "api/calendar/connect?ticket=", info.GetProperty("connectUrl").GetString(), StringComparison.Ordinal);
            using (var connect = await new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }).GetAsync(info.GetProperty("connectUrl").GetString()))
            {
                Assert.Equal(HttpStatusCode.Redirect, connect.StatusCode);
            }
            Assert.True(simulators.TryGetProperty("zoom", out _) && simulators.TryGetProperty("mail", out var mail) && mail.GetString()!.StartsWith("http://127.0.0.1:", StringComparison.Ordinal));

            using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
            using var page = await http.GetAsync(unsubscribe);
            using var click = await http.PostAsync(unsubscribe, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal(HttpStatusCode.OK, click.StatusCode);
            // The local queue pump runs the mail sync, as the host would.
            await Task.Delay(TimeSpan.FromSeconds(3));

            using (Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
            {
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            LogCapture.Record("stdout of 'serve'", await process.StandardOutput.ReadToEndAsync());
            Assert.Equal(0, process.ExitCode);
            Assert.False(await ListensAsync(baseUrl));
            var lines = (await File.ReadAllLinesAsync(wireLog)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            // The suppression groups are looked up once at start, before any address is sent.
            Assert.Single(lines, l => l.GetProperty("provider").GetString() == "mail" && l.GetProperty("path").GetString() == "/v3/asm/groups");
            var suppression = Assert.Single(lines, l => l.GetProperty("provider").GetString() == "mail" && l.GetProperty("path").GetString() != "/v3/asm/groups");
            Assert.Equal("POST", suppression.GetProperty("method").GetString());
            Assert.Equal("/v3/asm/groups/101/suppressions", suppression.GetProperty("path").GetString());
            Assert.Contains("stu_demo_ja@example.jp", suppression.GetProperty("body").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            File.Delete(wireLog);
        }
    }

    [Fact]
    public async Task Serve_WriteSettings_OperatorCommandsReachTheSameSandboxThroughTheFile()
    {
        var settingsFile = Path.Combine(Path.GetTempPath(), $"sandbox-settings-{Guid.NewGuid():N}.json");
        using var cli = StartCli("serve", "--sandbox", "--write-settings", settingsFile);
        var process = cli.Process;
        try
        {
            var info = await ReadServeInfoAsync(process);
            var baseUrl = new Uri(info.GetProperty("baseUrl").GetString()!);
            var written = JsonDocument.Parse(await File.ReadAllTextAsync(settingsFile)).RootElement;
            LogCapture.Plant("sandbox-zoom-client-secret", written.GetProperty("Zoom:ClientSecret").GetString());
            Assert.Equal(info.GetProperty("storageConnectionString").GetString(), written.GetProperty("AzureWebJobsStorage").GetString());
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(settingsFile));

            // The member serve subscribed is erased at the mail simulator the server uses, through the file alone.
            var (eraseExit, receipt, eraseErr) = await CliRun.RunAsync("erase", "--member", "stu_demo_ja", "--settings", settingsFile);
            Assert.True(eraseExit == 0, eraseErr);
            var mail = Assert.Single(JsonDocument.Parse(receipt).RootElement.GetProperty("steps").EnumerateArray(), s => s.GetProperty("provider").GetString() == "mail");
            Assert.Equal(1, mail.GetProperty("items").GetInt32());
            Assert.Equal("done", mail.GetProperty("outcome").GetString());

            var (linkExit, link, linkErr) = await CliRun.RunAsync("connect-link", "--lecturer", "lec_settings_file", "--settings", settingsFile);
            Assert.True(linkExit == 0, linkErr);
            Assert.StartsWith(baseUrl + "api/calendar/connect?ticket=", link.Trim(), StringComparison.Ordinal);
            LogCapture.Plant("connect-ticket", Uri.UnescapeDataString(link.Trim().Split("ticket=")[1]));
            using (var connect = await new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }).GetAsync(link.Trim()))
            {
                // The server accepts the ticket the command signed with the key from the file: Google's consent is next.
                Assert.Equal(HttpStatusCode.Redirect, connect.StatusCode);
            }

            // The ledger commands take only the file's storage (without it they have none: exit 2).
            var (exportExit, export, exportErr) = await CliRun.RunAsync("ledger", "export", "--member", "stu_demo_en", "--settings", settingsFile);
            Assert.True(exportExit == 0, exportErr);
            Assert.Equal("stu_demo_en", JsonDocument.Parse(export).RootElement.GetProperty("memberId").GetString());

            // The nightly reconcile reads the server's subscriptions: two seeded, one just erased.
            var (syncExit, report, syncErr) = await CliRun.RunAsync("sync", "--settings", settingsFile);
            Assert.True(syncExit == 0, syncErr);
            Assert.Equal(1, JsonDocument.Parse(report).RootElement.GetProperty("newsletter").GetProperty("checked").GetInt32());

            using (Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
            {
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, process.ExitCode);
            Assert.False(File.Exists(settingsFile), "the Sandbox's keys outlived it");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            File.Delete(settingsFile);
        }
    }

    [Fact]
    public async Task Serve_WithoutSandbox_RefusesWithExit2()
    {
        using var cli = StartCli("serve");
        await cli.Process.WaitForExitAsync();

        Assert.Equal(2, cli.Process.ExitCode);
        Assert.Contains(cli.Errors, line => line.Contains("--sandbox", StringComparison.Ordinal));
    }
}
