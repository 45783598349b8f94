using Cafetalk.Integrations.Disclosure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Tests.Disclosure;

/// <summary>The gated clients' wiring: no redirect is followed, and sandbox origins are loopback-only and never in Azure.</summary>
public sealed class DisclosureDestinationTests
{
    private static ServiceProvider CreateServices(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddHttpClient("gated").AddDisclosureGate(DisclosurePolicy.Zoom);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void GatedClient_PrimaryHandler_NeverFollowsRedirects()
    {
        using var services = CreateServices([]);

        HttpMessageHandler handler = services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler("gated");
        var sawGate = false;
        while (handler is DelegatingHandler delegating)
        {
            sawGate |= delegating is DisclosureGateHandler;
            handler = delegating.InnerHandler!;
        }

        Assert.True(sawGate);
        var follows = handler switch
        {
            SocketsHttpHandler sockets => sockets.AllowAutoRedirect,
            HttpClientHandler client => client.AllowAutoRedirect,
            _ => throw new InvalidOperationException($"unexpected primary handler {handler.GetType().Name}"),
        };
        Assert.False(follows);
    }

    [Fact]
    public void SandboxOrigins_Loopback_Accepted()
    {
        using var services = CreateServices(new() { ["Disclosure:SandboxOrigins:zoom:0"] = "http://127.0.0.1:5123" });

        var options = services.GetRequiredService<IOptions<DisclosureDestinationOptions>>().Value;

        Assert.Equal(new Uri("http://127.0.0.1:5123"), Assert.Single(options.SandboxOrigins["zoom"]));
    }

    [Theory]
    [InlineData("https://attacker.test")]
    [InlineData("http://10.0.0.5:8080")]
    public void SandboxOrigins_NotLoopback_RefusedNamingTheSetting(string origin)
    {
        using var services = CreateServices(new() { ["Disclosure:SandboxOrigins:zoom:0"] = origin });

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<DisclosureDestinationOptions>>().Value);

        Assert.Contains("Disclosure:SandboxOrigins", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SandboxOrigins_WhenRunningInAzure_Refused()
    {
        using var services = CreateServices(new() { ["Disclosure:SandboxOrigins:zoom:0"] = "http://127.0.0.1:5123", ["WEBSITE_SITE_NAME"] = "func-cafetalk" });

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<DisclosureDestinationOptions>>().Value);

        Assert.Contains("refused in Azure", ex.Message, StringComparison.Ordinal);
    }
}
