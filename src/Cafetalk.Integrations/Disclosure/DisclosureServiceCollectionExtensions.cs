using Cafetalk.Integrations.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>Registers the policy, the ledger and the gate, and wires the gate onto provider HttpClients.</summary>
public static class DisclosureServiceCollectionExtensions
{
    public static IServiceCollection AddDisclosure(this IServiceCollection services, DisclosurePolicy? policy = null)
    {
        services.TryAddSingleton(policy ?? DisclosurePolicy.Cafetalk);
        services.AddOptions<ErasureKeysOptions>().BindConfiguration(ErasureKeysOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ErasureKeysOptions>, ErasureKeysOptionsValidator>());
        services.TryAddSingleton<MemberKeys>();
        services.TryAddSingleton<SubjectRegistry>();
        services.TryAddSingleton<DisclosureLedger>();
        services.AddOptions<DisclosureLedgerOptions>().BindConfiguration(DisclosureLedgerOptions.SectionName).ValidateDataAnnotations();
        services.AddOptions<LedgerDigestSigningOptions>().BindConfiguration(LedgerDigestSigningOptions.SectionName);
        services.AddHttpClient(KeyVaultLedgerDigestKey.HttpClientName).RemoveAllLoggers();
        services.TryAddSingleton(LedgerDigestSigningOptions.Create);
        services.TryAddSingleton<LedgerDigests>();
        services.TryAddSingleton<LedgerVerifier>();
        services.TryAddSingleton<LedgerRetention>();
        services.TryAddSingleton<DisclosureExport>();
        services.TryAddSingleton<DisclosureExportEndpoint>();
        services.AddMetrics();
        services.TryAddSingleton<LedgerMetrics>();
        services.TryAddSingleton<ProviderMetrics>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHttpMessageHandlerBuilderFilter, DisclosureGateFilter>());
        // After the gate's filter on purpose: a later filter's handler lands outside the gate's (see ProviderRequestMetricsFilter).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHttpMessageHandlerBuilderFilter, ProviderRequestMetricsFilter>());
        return services;
    }

    /// <summary>
    /// A typed HttpClient for a provider, gated for <paramref name="recipient"/>. Chain further handlers
    /// (auth, resilience) as usual: the gate is always appended last, next to the wire.
    /// </summary>
    public static IHttpClientBuilder AddProviderHttpClient<TClient>(this IServiceCollection services, Recipient recipient)
        where TClient : class =>
        services.AddHttpClient<TClient>().AddDisclosureGate(recipient);

    /// <summary>Puts the gate for <paramref name="recipient"/> on this client and drops the default request logging (URLs may hold personal data).</summary>
    public static IHttpClientBuilder AddDisclosureGate(this IHttpClientBuilder builder, Recipient recipient)
    {
        builder.Services.AddDisclosure();
        builder.Services.Configure<DisclosureGateOptions>(o => o.RecipientsByClientName[builder.Name] = recipient);
        builder.RemoveAllLoggers();
        return builder;
    }
}

/// <summary>Which named HttpClient is gated for which recipient.</summary>
public sealed class DisclosureGateOptions
{
    public Dictionary<string, Recipient> RecipientsByClientName { get; } = new(StringComparer.Ordinal);
}

/// <summary>Appends the gate after every other configured handler, so nothing can add a field behind its back.</summary>
internal sealed class DisclosureGateFilter(IOptions<DisclosureGateOptions> options, DisclosurePolicy policy, ILoggerFactory loggers)
    : IHttpMessageHandlerBuilderFilter
{
    public Action<HttpMessageHandlerBuilder> Configure(Action<HttpMessageHandlerBuilder> next) => builder =>
    {
        next(builder);
        if (builder.Name is not null && options.Value.RecipientsByClientName.TryGetValue(builder.Name, out var recipient))
        {
            builder.AdditionalHandlers.Add(new DisclosureGateHandler(policy, recipient, loggers.CreateLogger<DisclosureGateHandler>()));
        }
    };
}
