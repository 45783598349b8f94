using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Erasure;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Operations;
using Cafetalk.Integrations.Recordings;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Telemetry;
using Cafetalk.Integrations.Vimeo;
using Cafetalk.Integrations.Zoom;
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
        services.AddLogging().SilenceUrlLoggingCategories();
        services.TryAddSingleton(_ => StorageAccount.FromConfiguration(configuration));
        services.TryAddSingleton<PoisonQueue>();
        services.TryAddSingleton<QueueRescheduler>();
        services.TryAddSingleton<QueueMessageRunner>();
        services.TryAddSingleton<BookingEventParser>();
        services.TryAddSingleton<BookingRows>();
        services.TryAddSingleton(sp => sp.GetRequiredService<BookingRows>().Outbox);
        services.TryAddSingleton<BookingStateStore>();
        services.TryAddSingleton<IntakeMetrics>();
        services.TryAddSingleton<ConvergeMetrics>();
        services.TryAddSingleton<ConvergeRequests>();
        services.TryAddSingleton<SiteNotifier>();
        services.TryAddSingleton<BookingEventIntake>();
        services.TryAddTransient<NightlyJobs>();
        services.AddOptions<StartsSoonOptions>().Bind(configuration.GetSection(StartsSoonOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddTransient<StartsSoonCheck>();
        services.AddDisclosure();
        services.TryAddSingleton<PoisonReplayer>();
        services.TryAddSingleton<HostPoisonSweeper>();
        services.AddNewsletter();
        services.AddZoom(configuration);
        services.AddVimeo(configuration);
        services.AddRecordingArchive();
        services.AddErasure();
        services.AddGoogleCalendar();
        return services;
    }
}
