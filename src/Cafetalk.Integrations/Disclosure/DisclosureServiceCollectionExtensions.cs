using Cafetalk.Integrations.Telemetry;
using Microsoft.Extensions.Configuration;
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
        services.TryAddSingleton<DisclosureScope>();
        services.AddOptions<DisclosureLedgerOptions>().BindConfiguration(DisclosureLedgerOptions.SectionName).ValidateDataAnnotations();
        services.AddOptions<LedgerDigestSigningOptions>().BindConfiguration(LedgerDigestSigningOptions.SectionName);
        services.AddHttpClient(KeyVaultLedgerDigestKey.HttpClientName).RemoveAllLoggers();
        services.TryAddSingleton(LedgerDigestSigningOptions.Create);
        services.TryAddSingleton<LedgerDigests>();
        services.TryAddSingleton<LedgerVerifier>();
        services.TryAddSingleton<SubjectMappingVerifier>();
        services.TryAddSingleton<LedgerRetention>();
        services.TryAddSingleton<DisclosureExport>();
        services.TryAddSingleton<DisclosureExportFlow>();
        services.AddOptions<PrivacyOfficeOptions>()
            .Configure<IServiceProvider>((o, sp) => sp.GetService<IConfiguration>()?.GetSection(PrivacyOfficeOptions.SectionName).Bind(o));
        services.TryAddSingleton<PrivacyOfficeCredential>();
        // Bound only when the host has a configuration: a bare collection (tests, tools) gets no sandbox origins.
        services.AddOptions<DisclosureDestinationOptions>()
            .Configure<IServiceProvider>((o, sp) => sp.GetService<IConfiguration>()?.GetSection(DisclosureDestinationOptions.SectionName).Bind(o))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DisclosureDestinationOptions>, DisclosureDestinationOptionsValidator>());
        services.AddMetrics();
        services.TryAddSingleton<LedgerMetrics>();
        services.TryAddSingleton<ProviderMetrics>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHttpMessageHandlerBuilderFilter, DisclosureGateFilter>());
        // After the gate's filter on purpose: a later filter's handler lands outside the gate's (see ProviderRequestMetricsFilter).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHttpMessageHandlerBuilderFilter, ProviderRequestMetricsFilter>());
        return services;
    }

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

/// <summary>
/// Appends the gate after every other configured handler, so nothing can add a field behind its back, and stops the
/// primary handler following redirects: a 307 would send the checked body on to a host the gate never saw.
/// </summary>
internal sealed class DisclosureGateFilter(IOptions<DisclosureGateOptions> options, IOptions<DisclosureDestinationOptions> destinations, DisclosurePolicy policy, ILoggerFactory loggers)
    : IHttpMessageHandlerBuilderFilter
{
    public Action<HttpMessageHandlerBuilder> Configure(Action<HttpMessageHandlerBuilder> next) => builder =>
    {
        next(builder);
        if (builder.Name is not null && options.Value.RecipientsByClientName.TryGetValue(builder.Name, out var recipient))
        {
            NeverFollowRedirects(builder.PrimaryHandler);
            var origins = destinations.Value.SandboxOrigins.GetValueOrDefault(recipient.Key) ?? [];
            builder.AdditionalHandlers.Add(new DisclosureGateHandler(policy, recipient, loggers.CreateLogger<DisclosureGateHandler>(), origins));
        }
    };

    /// <summary>Also used by the tests: a custom primary handler of another type must not follow redirects itself.</summary>
    internal static void NeverFollowRedirects(HttpMessageHandler primary)
    {
        switch (primary)
        {
            case SocketsHttpHandler sockets:
                sockets.AllowAutoRedirect = false;
                break;
            case HttpClientHandler client:
                client.AllowAutoRedirect = false;
                break;
        }
    }
}

/// <summary>
/// <c>Disclosure:SandboxOrigins:{recipient}</c>: loopback origins (<c>http://127.0.0.1:5123</c>) the gate accepts for a
/// recipient besides its hosts, for the Sandbox's simulators. Refused at start for any non-loopback origin, and for any
/// origin at all when the app runs in Azure (<c>WEBSITE_SITE_NAME</c> is set by the platform).
/// </summary>
public sealed class DisclosureDestinationOptions
{
    public const string SectionName = "Disclosure";

    public Dictionary<string, List<Uri>> SandboxOrigins { get; set; } = new(StringComparer.Ordinal);
}

internal sealed class DisclosureDestinationOptionsValidator(IConfiguration? configuration = null) : IValidateOptions<DisclosureDestinationOptions>
{
    public ValidateOptionsResult Validate(string? name, DisclosureDestinationOptions options)
    {
        var origins = options.SandboxOrigins.SelectMany(o => o.Value).ToList();
        if (origins.Count > 0 && !string.IsNullOrEmpty(configuration?["WEBSITE_SITE_NAME"]))
        {
            return ValidateOptionsResult.Fail($"{DisclosureDestinationOptions.SectionName}:SandboxOrigins is for the Sandbox only and is refused in Azure.");
        }

        return origins.Any(o => !o.IsAbsoluteUri || !o.IsLoopback || o.Scheme is not ("http" or "https"))
            ? ValidateOptionsResult.Fail($"{DisclosureDestinationOptions.SectionName}:SandboxOrigins must be loopback origins (http://127.0.0.1:port) only.")
            : ValidateOptionsResult.Success;
    }
}
