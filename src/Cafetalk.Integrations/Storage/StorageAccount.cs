using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;

namespace Cafetalk.Integrations.Storage;

/// <summary>
/// The storage account the pipeline works in, built from the same <c>AzureWebJobsStorage</c> setting the
/// Functions host uses: a connection string locally, or service URIs plus a managed identity in Azure.
/// </summary>
public sealed class StorageAccount
{
    public const string SettingName = "AzureWebJobsStorage";

    /// <summary>The most UTF-8 a queue message may carry: 64 KiB after base64 is 48 KiB of text; 1 KiB is left spare.</summary>
    public const int MaxQueueMessageBytes = 47 * 1024;

    private readonly string? _connectionString;
    private readonly Uri? _tableUri;
    private readonly Uri? _queueUri;
    private readonly Uri? _blobUri;
    private readonly TokenCredential? _credential;
    private readonly TableClientOptions? _baseTableOptions;
    private readonly TableClientOptions? _tableOptions;
    private readonly Action<ClientOptions>? _configure;
    private readonly Lock _provisionGate = new();
    private Task? _provisioning;

    private StorageAccount(string? connectionString, Uri? tableUri, Uri? queueUri, Uri? blobUri, TokenCredential? credential, TableClientOptions? tableOptions = null,
        Action<ClientOptions>? configure = null)
    {
        _configure = configure;
        _baseTableOptions = tableOptions;
        // Built once: configuring the caller's options on every Table() call would stack copies of its policies.
        _tableOptions = configure is null ? tableOptions : Configured(tableOptions ?? new TableClientOptions());
        _connectionString = connectionString;
        _tableUri = tableUri;
        _queueUri = queueUri;
        _blobUri = blobUri;
        _credential = credential;
    }

    /// <summary>From a connection string; <paramref name="tableOptions"/> lets tests add pipeline policies (e.g. request counting).</summary>
    public static StorageAccount FromConnectionString(string connectionString, TableClientOptions? tableOptions = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return new StorageAccount(connectionString, null, null, null, null, tableOptions);
    }

    /// <summary>Reads <c>AzureWebJobsStorage</c> (connection string) or its <c>__tableServiceUri</c>-style identity form.</summary>
    public static StorageAccount FromConfiguration(IConfiguration configuration)
    {
        var connectionString = configuration[SettingName];
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            return FromConnectionString(connectionString);
        }

        var section = configuration.GetSection(SettingName);
        var table = ReadUri(section, "tableServiceUri");
        var queue = ReadUri(section, "queueServiceUri");
        var blob = ReadUri(section, "blobServiceUri");
        if (table is null || queue is null || blob is null)
        {
            throw new InvalidOperationException(
                $"Setting '{SettingName}' is missing: set a connection string, or '{SettingName}__tableServiceUri', " +
                $"'{SettingName}__queueServiceUri' and '{SettingName}__blobServiceUri' for identity-based access.");
        }

        var clientId = section["clientId"];
        TokenCredential credential = string.IsNullOrWhiteSpace(clientId)
            ? new DefaultAzureCredential()
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
        return new StorageAccount(null, table, queue, blob, credential);
    }

    private static Uri? ReadUri(IConfigurationSection section, string key)
    {
        var value = section[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return Uri.TryCreate(value, UriKind.Absolute, out var uri)
            ? uri
            : throw new InvalidOperationException($"Setting '{SettingName}__{key}' is not an absolute URI.");
    }

    /// <summary>
    /// The same account with <paramref name="policy"/> on every table, queue and blob request as it goes on the
    /// wire (once per attempt): how the benchmark counts storage operations.
    /// </summary>
    public StorageAccount WithRequestPolicy(HttpPipelinePolicy policy) =>
        WithClientOptions(options => options.AddPolicy(policy, HttpPipelinePosition.PerRetry));

    /// <summary>
    /// The same account with <paramref name="configure"/> applied to every table, queue and blob client's options, after
    /// whatever was configured before: how the fault suite puts policies that interrupt storage calls, or shortens the SDK's retries.
    /// </summary>
    public StorageAccount WithClientOptions(Action<ClientOptions> configure)
    {
        var earlier = _configure;
        return new(_connectionString, _tableUri, _queueUri, _blobUri, _credential, _baseTableOptions, options =>
        {
            earlier?.Invoke(options);
            configure(options);
        });
    }

    public TableClient Table(string name) => _connectionString is not null
        ? new TableClient(_connectionString, name, _tableOptions)
        : new TableClient(_tableUri!, name, _credential!, _tableOptions);

    public TableServiceClient TableService() => _connectionString is not null
        ? new TableServiceClient(_connectionString, _tableOptions)
        : new TableServiceClient(_tableUri!, _credential!, _tableOptions);

    /// <summary>A queue client speaking base64, the Functions queue trigger's default encoding.</summary>
    public QueueClient Queue(string name)
    {
        var options = Configured(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        return _connectionString is not null
            ? new QueueClient(_connectionString, name, options)
            : new QueueClient(new Uri(_queueUri!, name), _credential!, options);
    }

    public BlobContainerClient BlobContainer(string name) => _connectionString is not null
        ? new BlobContainerClient(_connectionString, name, Configured(new BlobClientOptions()))
        : new BlobContainerClient(new Uri(_blobUri!, name), _credential!, Configured(new BlobClientOptions()));

    private T Configured<T>(T options)
        where T : ClientOptions
    {
        _configure?.Invoke(options);
        return options;
    }

    /// <summary>Creates every table, queue and container the pipeline uses, once per process (retried after a failure).</summary>
    public Task EnsureProvisionedAsync(CancellationToken cancellationToken = default)
    {
        lock (_provisionGate)
        {
            if (_provisioning is null || _provisioning.IsFaulted || _provisioning.IsCanceled)
            {
                _provisioning = ProvisionAsync();
            }

            return _provisioning.WaitAsync(cancellationToken);
        }
    }

    private async Task ProvisionAsync()
    {
        foreach (var table in TableNames.All)
        {
            await DeclaredByDeploymentIfRefused(() => Table(table).CreateIfNotExistsAsync());
        }

        foreach (var queue in QueueNames.All)
        {
            await DeclaredByDeploymentIfRefused(() => Queue(queue).CreateIfNotExistsAsync());
        }

        foreach (var container in BlobContainerNames.All)
        {
            await DeclaredByDeploymentIfRefused(() => BlobContainer(container).CreateIfNotExistsAsync());
        }
    }

    /// <summary>
    /// In Azure every table, queue and container is declared by the deployment and the app's roles are scoped to each
    /// one, which can refuse a create (403) on the resource that already exists; that refusal is not a failure.
    /// </summary>
    private static async Task DeclaredByDeploymentIfRefused(Func<Task> create)
    {
        try
        {
            await create();
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 403)
        {
            // The first real read or write of the resource reports any problem that is left.
        }
    }
}
