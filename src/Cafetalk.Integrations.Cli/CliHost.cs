using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Cli;

/// <summary>Builds the same core services the Functions app registers, for commands that run them locally.</summary>
internal static class CliHost
{
    /// <param name="time">The clock to register instead of the system's (tests); null: the system's.</param>
    public static ServiceProvider Build(IReadOnlyDictionary<string, string?> settings, LogLevel minimumLevel = LogLevel.None, TimeProvider? time = null)
    {
        // Environment variables carry the rest of an operator's settings (key rings, base URLs: Section__Key);
        // what the command itself sets wins.
        var configuration = new ConfigurationBuilder()
            .AddEnvironmentVariables()
            .AddInMemoryCollection(settings)
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        services.AddLogging(logging => logging.UseLocalLogging(minimumLevel));
        services.AddCafetalkIntegrationsCore(configuration);
        return services.BuildServiceProvider();
    }
}
