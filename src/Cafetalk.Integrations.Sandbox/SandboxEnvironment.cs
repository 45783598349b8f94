using Cafetalk.Integrations.Sandbox.Zoom;

namespace Cafetalk.Integrations.Sandbox;

/// <summary>
/// Everything a local run needs, started together and stopped together: a private Azurite and the provider
/// simulators. One per test class or CLI run; nothing global.
/// </summary>
public sealed class SandboxEnvironment : IAsyncDisposable
{
    private SandboxEnvironment(Azurite azurite, ZoomSimulator zoom)
    {
        Azurite = azurite;
        Zoom = zoom;
    }

    public Azurite Azurite { get; }

    public ZoomSimulator Zoom { get; }

    public string StorageConnectionString => Azurite.ConnectionString;

    public static async Task<SandboxEnvironment> StartAsync(CancellationToken cancellationToken = default)
    {
        var azurite = await Azurite.StartAsync(cancellationToken: cancellationToken);
        try
        {
            var zoom = await ZoomSimulator.StartAsync(cancellationToken: cancellationToken);
            return new SandboxEnvironment(azurite, zoom);
        }
        catch
        {
            await azurite.DisposeAsync();
            throw;
        }
    }

    /// <summary>The settings a host needs to run against this Sandbox.</summary>
    public IReadOnlyDictionary<string, string?> Settings()
    {
        var settings = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = StorageConnectionString,
        };
        foreach (var (key, value) in Zoom.Settings())
        {
            settings[key] = value;
        }

        return settings;
    }

    public async ValueTask DisposeAsync()
    {
        await Zoom.DisposeAsync();
        await Azurite.DisposeAsync();
    }
}
