using Microsoft.Azure.Functions.Worker.Builder;

namespace Cafetalk.Integrations.Functions;

/// <summary>Owns the Functions app's registrations: the core, configured from the app's settings.</summary>
public static class FunctionsApplicationBuilderExtensions
{
    public static FunctionsApplicationBuilder AddCafetalkIntegrations(this FunctionsApplicationBuilder builder)
    {
        builder.Services.AddCafetalkIntegrationsCore(builder.Configuration);
        return builder;
    }
}
