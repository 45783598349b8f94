using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Cafetalk.Integrations.Sandbox;

/// <summary>
/// A private Azurite (the real Azure Storage emulator) on free loopback ports, in memory, telemetry off.
/// Started from the repository's node_modules (running <c>npm ci</c> when they are missing); stopped on dispose.
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    // Azurite's fixed, publicly documented development account; not a secret.
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly SemaphoreSlim NpmGate = new(1, 1);
    private readonly Process _process;
    private readonly string _workDirectory;
    private readonly StringBuilder _output;

    /// <summary>What Azurite printed, for diagnosing a failed start.</summary>
    public string Output => Tail(_output);

    private Azurite(Process process, string workDirectory, StringBuilder output, int blobPort, int queuePort, int tablePort)
    {
        _process = process;
        _workDirectory = workDirectory;
        _output = output;
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
    }

    public int BlobPort { get; }
    public int QueuePort { get; }
    public int TablePort { get; }

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/{AccountName};" +
        $"QueueEndpoint=http://127.0.0.1:{QueuePort}/{AccountName};" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/{AccountName};";

    public bool HasExited => _process.HasExited;

    public static async Task<Azurite> StartAsync(string? repositoryRoot = null, CancellationToken cancellationToken = default)
    {
        var root = repositoryRoot ?? RepositoryRoot.Find();
        var entry = await EnsureInstalledAsync(root, cancellationToken);
        Exception? last = null;
        // Free ports are picked then released, so another process can take one first: try again with new ones.
        for (var attempt = 0; attempt < 4; attempt++)
        {
            try
            {
                return await LaunchAsync(entry, cancellationToken);
            }
            catch (SandboxException ex) when (attempt < 3)
            {
                last = ex;
            }
        }

        throw last ?? new SandboxException("Azurite did not start.");
    }

    private static async Task<Azurite> LaunchAsync(string entry, CancellationToken cancellationToken)
    {
        var (blob, queue, table) = (FreePort(), FreePort(), FreePort());
        var workDirectory = Directory.CreateTempSubdirectory("cafetalk-azurite-").FullName;
        var start = new ProcessStartInfo(NodeExecutable())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "azurite-host.js"));
        foreach (var argument in new[]
        {
            "--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck", "--silent",
            "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(),
            "--queueHost", "127.0.0.1", "--queuePort", queue.ToString(),
            "--tableHost", "127.0.0.1", "--tablePort", table.ToString(),
        })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["AZURITE_ENTRY"] = entry;
        var output = new StringBuilder();
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new SandboxException("Node.js did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new SandboxException("Node.js is not installed or not on PATH; Azurite needs it. Install Node.js 20 (apt-get install nodejs) and try again.", ex);
        }

        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var instance = new Azurite(process, workDirectory, output, blob, queue, table);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (process.HasExited)
            {
                var exitCode = process.ExitCode;
                await instance.DisposeAsync();
                throw new SandboxException($"Azurite exited at start (code {exitCode}): {Tail(output)}");
            }

            if (await IsListeningAsync(blob) && await IsListeningAsync(queue) && await IsListeningAsync(table))
            {
                return instance;
            }

            await Task.Delay(100, cancellationToken);
        }

        await instance.DisposeAsync();
        throw new SandboxException($"Azurite did not listen within 30 s: {Tail(output)}");
    }

    private static async Task<string> EnsureInstalledAsync(string root, CancellationToken cancellationToken)
    {
        var entry = Path.Combine(root, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (File.Exists(entry))
        {
            return entry;
        }

        await NpmGate.WaitAsync(cancellationToken);
        try
        {
            if (!File.Exists(entry))
            {
                await RunNpmCiAsync(root, cancellationToken);
            }
        }
        finally
        {
            NpmGate.Release();
        }

        return File.Exists(entry)
            ? entry
            : throw new SandboxException($"npm ci finished but '{entry}' is missing; check package.json pins azurite.");
    }

    private static async Task RunNpmCiAsync(string root, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("npm")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "ci", "--no-audit", "--no-fund" })
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new SandboxException("npm did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new SandboxException("npm is not installed or not on PATH; it is needed once to install Azurite. Install Node.js 20 with npm and try again.", ex);
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            _ = process.StandardOutput.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
            {
                throw new SandboxException($"'npm ci' failed in {root} (exit {process.ExitCode}): {(await stderr).Trim()}");
            }
        }
    }

    private static string NodeExecutable() => Environment.GetEnvironmentVariable("CAFETALK_NODE") is { Length: > 0 } node ? node : "node";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<bool> IsListeningAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Tail(StringBuilder output)
    {
        lock (output)
        {
            var text = output.ToString().Trim();
            return text.Length > 2000 ? text[^2000..] : text;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                // Closing stdin lets azurite-host.js exit by itself; kill only if it does not.
                _process.StandardInput.Close();
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await _process.WaitForExitAsync(wait.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync();
                }
            }
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(_workDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder is harmless; never fail a dispose for it.
            }
        }
    }
}
