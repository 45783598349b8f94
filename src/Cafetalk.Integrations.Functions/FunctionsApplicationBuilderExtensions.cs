using Microsoft.ApplicationInsights.Extensibility;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Functions;

/// <summary>Owns the Functions app's registrations: the core, configured from the app's settings, and its telemetry.</summary>
public static class FunctionsApplicationBuilderExtensions
{
    private const string ApplicationInsightsLoggerProviderName = "Microsoft.Extensions.Logging.ApplicationInsights.ApplicationInsightsLoggerProvider";

    public static FunctionsApplicationBuilder AddCafetalkIntegrations(this FunctionsApplicationBuilder builder)
    {
        builder.Services.AddCafetalkIntegrationsCore(builder.Configuration);
        builder.AddCafetalkTelemetry();
        return builder;
    }

    /// <summary>
    /// Application Insights through the worker's integration: the worker's logs, requests and dependencies go to the
    /// resource named by <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c>; without it nothing is sent.
    /// </summary>
    public static FunctionsApplicationBuilder AddCafetalkTelemetry(this FunctionsApplicationBuilder builder)
    {
        builder.Services
            .AddApplicationInsightsTelemetryWorkerService()
            .ConfigureFunctionsApplicationInsights();
        builder.Services.AddHostedService<MeterToApplicationInsights>();
        builder.Services.AddSingleton<ITelemetryInitializer, DependencyUrlScrubber>();

        // The SDK adds a rule that keeps only warnings for Application Insights; the worker's logging configuration should decide instead,
        // so converge and intake information (booking and correlation ids) reaches the workspace.
        builder.Services.Configure<LoggerFilterOptions>(options =>
        {
            var sdkRule = options.Rules.FirstOrDefault(rule => rule.ProviderName == ApplicationInsightsLoggerProviderName);
            if (sdkRule is not null)
            {
                options.Rules.Remove(sdkRule);
            }
        });
        return builder;
    }
}
