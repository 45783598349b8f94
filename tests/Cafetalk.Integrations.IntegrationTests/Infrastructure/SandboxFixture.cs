using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cafetalk.Integrations.IntegrationTests.Infrastructure;

/// <summary>
/// One private Sandbox (Azurite, later the simulators) per test class: started on first use, stopped when the
/// class is done. Nothing global and nothing started by hand.
/// </summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    private SandboxEnvironment? _sandbox;

    public SandboxEnvironment Sandbox => _sandbox ?? throw new InvalidOperationException("The Sandbox has not started.");

    public StorageAccount Storage => StorageAccount.FromConnectionString(Sandbox.StorageConnectionString);

    public async Task InitializeAsync() => _sandbox = await SandboxEnvironment.StartAsync();

    public async Task DisposeAsync()
    {
        if (_sandbox is not null)
        {
            await _sandbox.DisposeAsync();
        }
    }

    /// <summary>The core services wired to this Sandbox, as the Functions app wires them to Azure.</summary>
    public ServiceProvider CreateServices(TimeProvider? time = null, Action<IServiceCollection>? configure = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(Sandbox.Settings()).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        if (time is not null)
        {
            services.TryAddSingleton(time);
        }

        services.AddCafetalkIntegrationsCore(configuration);
        services.AddLogging(logging => LogCapture.AddTo(logging));
        configure?.Invoke(services);
        return services.BuildServiceProvider();
    }
}
