using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Cafetalk.Integrations.Sandbox;

/// <summary>
/// A private Azurite (the real Azure Storage emulator) on free loopback ports, telemetry off: in memory, or on disk
/// in a temporary folder (<see cref="StartOnDiskAsync"/>) so it can be stopped and started again on the same ports
/// with its data, as a storage outage. Started from the repository's node_modules (running <c>npm ci</c> when they
/// are missing); stopped on dispose.
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    // Azurite's fixed, publicly documented development account; not a secret.
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly SemaphoreSlim NpmGate = new(1, 1);
    private readonly string _entry;
    private readonly string _workDirectory;
    private readonly bool _onDisk;
    private readonly StringBuilder _output = new();
    private Process? _process;

    /// <summary>What Azurite printed, for diagnosing a failed start.</summary>
    public string Output => Tail(_output);

    private Azurite(string entry, string workDirectory, bool onDisk, int blobPort, int queuePort, int tablePort)
    {
        _entry = entry;
        _workDirectory = workDirectory;
        _onDisk = onDisk;
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
    }

    public int BlobPort { get; }
    public int QueuePort { get; }
    public int TablePort { get; }

    /// <summary>CPU time the emulator's process has used so far (zero when it is not running): how busy storage was.</summary>
    public TimeSpan ProcessorTime
    {
        get
        {
            try
            {
                return _process is { HasExited: false } process ? process.TotalProcessorTime : TimeSpan.Zero;
            }
            catch (InvalidOperationException)
            {
                return TimeSpan.Zero; // it exited between the check and the read
            }
        }
    }

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/{AccountName};" +
        $"QueueEndpoint=http://127.0.0.1:{QueuePort}/{AccountName};" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/{AccountName};";

    /// <summary>True when the emulator is not running (stopped, or it died).</summary>
    public bool HasExited => _process is null || _process.HasExited;

    /// <summary>In memory: fastest, and its data dies with it.</summary>
    public static Task<Azurite> StartAsync(string? repositoryRoot = null, CancellationToken cancellationToken = default) =>
        StartAsync(onDisk: false, repositoryRoot, cancellationToken);

    /// <summary>On disk in a temporary folder, so <see cref="StopAsync"/> and <see cref="StartAgainAsync"/> keep every table, queue and blob.</summary>
    public static Task<Azurite> StartOnDiskAsync(string? repositoryRoot = null, CancellationToken cancellationToken = default) =>
        StartAsync(onDisk: true, repositoryRoot, cancellationToken);

    private static async Task<Azurite> StartAsync(bool onDisk, string? repositoryRoot, CancellationToken cancellationToken)
    {
        var root = repositoryRoot ?? RepositoryRoot.Find();
        var entry = await EnsureInstalledAsync(root, cancellationToken);
        Exception? last = null;
        // Free ports are picked then released, so another process can take one first: try again with new ones.
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var instance = new Azurite(entry, Directory.CreateTempSubdirectory("cafetalk-azurite-").FullName, onDisk, FreePort(), FreePort(), FreePort());
            try
            {
                await instance.LaunchAsync(cancellationToken);
                return instance;
            }
            catch (SandboxException ex) when (attempt < 3)
            {
                last = ex;
                await instance.DisposeAsync();
            }
        }

        throw last ?? new SandboxException("Azurite did not start.");
    }

    /// <summary>
    /// Stops the emulator the way an outage would look to clients (connections refused), after Azurite has saved its
    /// databases; an in-memory emulator loses everything, so only one started on disk may be started again.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_process is not { HasExited: false } process)
        {
            return;
        }

        // "stop" makes azurite-host.js run Azurite's own shutdown (servers closed, databases saved) and then exit.
        await process.StandardInput.WriteLineAsync("stop".AsMemory(), cancellationToken);
        await process.StandardInput.FlushAsync(cancellationToken);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(TimeSpan.FromSeconds(15));
        try
        {
            await process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }

        process.Dispose();
        _process = null;
    }

    /// <summary>Starts a stopped on-disk emulator again on the same ports, with the data it saved.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        if (!_onDisk)
        {
            throw new InvalidOperationException("An in-memory Azurite lost its data when it stopped; start it on disk to restart it.");
        }

        if (!HasExited)
        {
            throw new InvalidOperationException("Azurite is still running.");
        }

        await LaunchAsync(cancellationToken);
    }

    private async Task LaunchAsync(CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(NodeExecutable())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _workDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "azurite-host.js"));
        string[] persistence = _onDisk ? ["--location", Path.Combine(_workDirectory, "data")] : ["--inMemoryPersistence"];
        foreach (var argument in persistence.Concat(
        [
            "--disableTelemetry", "--skipApiVersionCheck", "--silent",
            "--blobHost", "127.0.0.1", "--blobPort", BlobPort.ToString(),
            "--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString(),
            "--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(),
        ]))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["AZURITE_ENTRY"] = _entry;
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new SandboxException("Node.js did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new SandboxException("Node.js is not installed or not on PATH; Azurite needs it. Install Node.js 20 (apt-get install nodejs) and try again.", ex);
        }

        process.OutputDataReceived += (_, e) => Append(_output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(_output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (process.HasExited)
            {
                throw new SandboxException($"Azurite exited at start (code {process.ExitCode}): {Tail(_output)}");
            }

            if (await IsListeningAsync(BlobPort) && await IsListeningAsync(QueuePort) && await IsListeningAsync(TablePort))
            {
                return;
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new SandboxException($"Azurite did not listen within 30 s: {Tail(_output)}");
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
            if (_process is { HasExited: false } process)
            {
                // Closing stdin lets azurite-host.js exit by itself; kill only if it does not.
                process.StandardInput.Close();
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await process.WaitForExitAsync(wait.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }
        }
        finally
        {
            _process?.Dispose();
            _process = null;
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
