using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Http.Resilience;

namespace Cafetalk.Integrations.Tests.Disclosure;

/// <summary>The one builder of providers' API clients: the handlers every provider's requests pass, in their order.</summary>
public sealed class ProviderHttpPipelineTests
{
    private sealed class ProbeOptions : ProviderRetryOptions;

    /// <summary>Stands for a provider's credential handler.</summary>
    private sealed class CredentialsProbe : DelegatingHandler;

    private static ServiceProvider CreateServices(Action<IServiceCollection> register)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddOptions<ProbeOptions>();
        register(services);
        return services.BuildServiceProvider();
    }

    /// <summary>The handlers of client <paramref name="name"/>, outermost first, ending with the primary handler.</summary>
    private static List<HttpMessageHandler> Chain(ServiceProvider services, string name)
    {
        var chain = new List<HttpMessageHandler>();
        for (HttpMessageHandler? handler = services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(name); handler is not null;
             handler = (handler as DelegatingHandler)?.InnerHandler)
        {
            chain.Add(handler);
        }

        return chain;
    }

    [Fact]
    public void AddProviderPipeline_ResilienceThenCredentialsThenTheGate_AndTheGateIsNextToTheWire()
    {
        using var services = CreateServices(s => s.AddHttpClient("probe").AddProviderPipeline(new ProviderHttpPipeline<ProbeOptions>
        {
            Recipient = DisclosurePolicy.Zoom,
            Name = "probe-api",
            ShouldRetry = (_, _, _) => ValueTask.FromResult(false),
            Credentials = _ => new CredentialsProbe(),
        }));

        var chain = Chain(services, "probe");

        var ours = chain.Where(h => h is ResilienceHandler or CredentialsProbe or DisclosureGateHandler).Select(h => h.GetType()).ToList();
        Assert.Equal([typeof(ResilienceHandler), typeof(CredentialsProbe), typeof(DisclosureGateHandler)], ours);
        // Nothing between the gate and the primary handler can change what it checked.
        Assert.IsType<DisclosureGateHandler>(chain[^2]);
        Assert.IsNotAssignableFrom<DelegatingHandler>(chain[^1]);
    }

    [Fact]
    public void AddProviderPipeline_CredentialsAddedAfterwards_StillRunOutsideTheGate()
    {
        using var services = CreateServices(s => s.AddHttpClient("probe")
            .AddProviderPipeline(new ProviderHttpPipeline<ProbeOptions> { Recipient = DisclosurePolicy.Vimeo, Name = "probe-api", ShouldRetry = (_, _, _) => ValueTask.FromResult(true) })
            .AddHttpMessageHandler(() => new CredentialsProbe()));

        var chain = Chain(services, "probe");

        Assert.IsType<DisclosureGateHandler>(chain[^2]);
        Assert.True(chain.FindIndex(h => h is CredentialsProbe) < chain.FindIndex(h => h is DisclosureGateHandler));
    }

    [Fact]
    public async Task Retry_NoAttemptsConfigured_NeverRetries()
    {
        var options = new ProbeOptions { MaxRetryAttempts = 0 };
        var retry = ProviderHttpClients.Retry(options, _ => ValueTask.FromResult(true));

        var handled = await retry.ShouldHandle(new Polly.Retry.RetryPredicateArguments<HttpResponseMessage>(
            Polly.ResilienceContextPool.Shared.Get(), Polly.Outcome.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.ServiceUnavailable)), 0));

        Assert.False(handled);
        Assert.Equal(1, retry.MaxRetryAttempts);
    }
}
