using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cafetalk.Integrations;

/// <summary>One place that registers the core, shared by the Functions app, the CLI and the tests.</summary>
public static class CoreServiceCollectionExtensions
{
    public static IServiceCollection AddCafetalkIntegrationsCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddLogging();
        services.TryAddSingleton(_ => StorageAccount.FromConfiguration(configuration));
        services.TryAddSingleton<PoisonQueue>();
        services.TryAddSingleton<BookingEventParser>();
        services.TryAddSingleton<BookingStateStore>();
        services.TryAddSingleton<IntakeMetrics>();
        services.TryAddSingleton<BookingEventIntake>();
        services.AddDisclosure();
        return services;
    }
}
