namespace Cafetalk.Integrations.Sandbox;

/// <summary>
/// Everything a local run needs, started together and stopped together: a private Azurite today; the provider
/// simulators join it as they are built. One per test class or CLI run; nothing global.
/// </summary>
public sealed class SandboxEnvironment : IAsyncDisposable
{
    private SandboxEnvironment(Azurite azurite) => Azurite = azurite;

    public Azurite Azurite { get; }

    public string StorageConnectionString => Azurite.ConnectionString;

    public static async Task<SandboxEnvironment> StartAsync(CancellationToken cancellationToken = default)
    {
        var azurite = await Azurite.StartAsync(cancellationToken: cancellationToken);
        return new SandboxEnvironment(azurite);
    }

    /// <summary>The settings a host needs to run against this Sandbox.</summary>
    public IReadOnlyDictionary<string, string?> Settings() => new Dictionary<string, string?>
    {
        ["AzureWebJobsStorage"] = StorageConnectionString,
    };

    public ValueTask DisposeAsync() => Azurite.DisposeAsync();
}
