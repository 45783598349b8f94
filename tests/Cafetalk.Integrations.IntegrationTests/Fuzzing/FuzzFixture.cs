using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Cafetalk.Integrations.Cli.Serving;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.IntegrationTests.Fuzzing;

/// <summary>
/// <see cref="ServedSandboxFixture"/> for fuzzing: the same private Sandbox and Kestrel server, with every log line
/// kept in <see cref="Logs"/> (so tests can look for planted values) instead of tens of thousands written to the console,
/// filtered as <c>host.json</c> filters them in Azure.
/// </summary>
public sealed class FuzzFixture : IAsyncLifetime
{
    private SandboxEnvironment? _sandbox;
    private LocalFunctionsServer? _server;

    public CapturedLogs Logs { get; } = new();

    /// <summary>Off unless a test turns it on: then refusals' poison writes are kept in memory instead of reaching Azurite.</summary>
    public PoisonWritesInMemory PoisonWrites { get; } = new();

    public SandboxEnvironment Sandbox => _sandbox ?? throw new InvalidOperationException("The Sandbox has not started.");

    public LocalFunctionsServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public IServiceProvider Services => Server.Services;

    public StorageAccount Storage => StorageAccount.FromConnectionString(Sandbox.StorageConnectionString);

    /// <summary>Requests every simulator has received so far: a fuzzed input must never reach a provider.</summary>
    public int ProviderRequests => Sandbox.WireRequests().Count;

    public async Task InitializeAsync()
    {
        _sandbox = await SandboxEnvironment.StartAsync();
        _server = await LocalFunctionsServer.StartAsync(
            baseUrl =>
            {
                _sandbox.PublicBaseUrl = baseUrl;
                return _sandbox.Settings();
            },
            configure: services =>
            {
                services.RemoveAll<StorageAccount>();
                services.AddSingleton(StorageAccount.FromConnectionString(_sandbox.StorageConnectionString).WithRequestPolicy(PoisonWrites));
                // Off the console (tens of thousands of lines), but still into the whole-suite capture the log scan reads.
                services.RemoveAll<ILoggerProvider>();
                services.AddSingleton<ILoggerProvider>(Logs);
                services.AddSingleton(LogCapture.Provider);
                // As host.json has it: the framework's own request logs (full URLs) only from Warning up.
                services.Configure<LoggerFilterOptions>(options => options.AddFilter("Microsoft", LogLevel.Warning));
            },
            minimumLevel: LogLevel.Information);
        LogCapture.Plant("function-key", _server.FunctionKey);
        await Storage.EnsureProvisionedAsync();
    }

    public Task<StorageSnapshot> SnapshotAsync() => StorageSnapshot.TakeAsync(Sandbox.StorageConnectionString);

    /// <summary>Empties every table, queue and blob container, so each fuzz run starts from the same empty account.</summary>
    public async Task ResetAsync()
    {
        var tables = new TableServiceClient(Sandbox.StorageConnectionString);
        var rows = new List<(string Table, string PartitionKey, string RowKey)>();
        await foreach (var table in tables.QueryAsync())
        {
            await foreach (var row in tables.GetTableClient(table.Name).QueryAsync<TableEntity>(select: ["PartitionKey", "RowKey"]))
            {
                rows.Add((table.Name, row.PartitionKey, row.RowKey));
            }
        }

        await Parallel.ForEachAsync(rows, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (row, ct) =>
            await tables.GetTableClient(row.Table).DeleteEntityAsync(row.PartitionKey, row.RowKey, cancellationToken: ct));
        var queues = new QueueServiceClient(Sandbox.StorageConnectionString);
        await foreach (var queue in queues.GetQueuesAsync())
        {
            await queues.GetQueueClient(queue.Name).ClearMessagesAsync();
        }

        var blobs = new BlobServiceClient(Sandbox.StorageConnectionString);
        await foreach (var container in blobs.GetBlobContainersAsync())
        {
            var client = blobs.GetBlobContainerClient(container.Name);
            await foreach (var blob in client.GetBlobsAsync())
            {
                await client.DeleteBlobAsync(blob.Name);
            }
        }
    }

    /// <summary>Every envelope on <c>booking-events-poison</c>, with the digest of the message it was written for, then empties the queue.</summary>
    public async Task<IReadOnlyList<(PoisonEnvelope Envelope, string Digest)>> TakePoisonAsync()
    {
        var poisonQueue = Storage.Queue(QueueNames.BookingEventsPoison);
        var taken = new List<(PoisonEnvelope, string)>();
        while ((await poisonQueue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(10))).Value is { Length: > 0 } batch)
        {
            foreach (var message in batch)
            {
                var envelope = PoisonEnvelope.TryParse(message.Body.ToString())
                    ?? throw new InvalidOperationException("booking-events-poison holds a message that is not an envelope.");
                taken.Add((envelope, envelope.OriginalSha256 ?? throw new InvalidOperationException("an envelope without the digest of its message.")));
            }
        }

        await poisonQueue.ClearMessagesAsync();
        return taken;
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        if (_sandbox is not null)
        {
            await _sandbox.DisposeAsync();
        }
    }
}
