using System.Net;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.Zoom;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;

namespace Cafetalk.Integrations.IntegrationTests.Disclosure;

/// <summary>
/// The app's own gated HttpClients against two loopback servers: a "provider" that answers 307 to a second host, and
/// that second host, which must never see a byte; and a request built straight to the second host is refused unsent.
/// </summary>
public sealed class DisclosureRedirectTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private readonly List<string> _atProvider = [];
    private readonly List<string> _atOtherHost = [];
    private WebApplication? _provider;
    private WebApplication? _otherHost;
    private Uri _providerAddress = null!;
    private Uri _otherAddress = null!;

    public async Task InitializeAsync()
    {
        (_otherHost, _otherAddress) = await StartAsync(context =>
        {
            lock (_atOtherHost)
            {
                _atOtherHost.Add(context.Request.Path);
            }

            return Task.CompletedTask;
        });
        (_provider, _providerAddress) = await StartAsync(context =>
        {
            lock (_atProvider)
            {
                _atProvider.Add(context.Request.Path);
            }

            context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            context.Response.Headers.Location = new Uri(_otherAddress, context.Request.Path + context.Request.QueryString).ToString();
            return Task.CompletedTask;
        });
    }

    public async Task DisposeAsync()
    {
        await _provider!.DisposeAsync();
        await _otherHost!.DisposeAsync();
    }

    private static async Task<(WebApplication App, Uri Address)> StartAsync(RequestDelegate handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        app.Run(handler);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address.TrimEnd('/') + "/"));
    }

    /// <summary>The core's registrations on the Sandbox's settings, with the "provider" as every recipient's sandbox origin instead of a simulator.</summary>
    private ServiceProvider CreateServices()
    {
        var origin = _providerAddress.GetLeftPart(UriPartial.Authority);
        var settings = fixture.Sandbox.Settings().ToDictionary();
        foreach (var recipient in DisclosurePolicy.Cafetalk.Recipients)
        {
            settings[$"Disclosure:SandboxOrigins:{recipient.Key}:0"] = origin;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddCafetalkIntegrationsCore(configuration);
        return services.BuildServiceProvider();
    }

    public static TheoryData<string, string, string, string> GatedRequests => new()
    {
        // Zoom's token request carries our client secret in its Basic header: the most valuable thing to redirect.
        { ZoomTokenProvider.HttpClientName, DisclosurePolicy.PurposeIds.ZoomAuthentication, "POST", "oauth/token?grant_type=account_credentials&account_id=acc" },
        { GoogleAuthorization.HttpClientName, DisclosurePolicy.PurposeIds.GoogleAuthorization, "POST", "token" },
        { "MailServiceClient", DisclosurePolicy.PurposeIds.NewsletterSuppression, "GET", "v3/asm/groups/7/suppressions" },
    };

    [Theory]
    [MemberData(nameof(GatedRequests))]
    public async Task GatedClient_ProviderAnswers307ToAnotherLoopbackHost_TheOtherHostReceivesNothing(string client, string purposeId, string method, string path)
    {
        using var services = CreateServices();
        var http = services.GetRequiredService<IHttpClientFactory>().CreateClient(client);
        using var request = Request(purposeId, method, new Uri(_providerAddress, path));
        request.Headers.Authorization = new("Basic", "Y2xpZW50OnNlY3JldA==");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        Assert.Single(_atProvider);
        Assert.Empty(_atOtherHost);
    }

    [Theory]
    [MemberData(nameof(GatedRequests))]
    public async Task GatedClient_RequestBuiltToANonRecipientHost_IsRefusedBeforeAnyByteLeaves(string client, string purposeId, string method, string path)
    {
        using var services = CreateServices();
        var http = services.GetRequiredService<IHttpClientFactory>().CreateClient(client);
        using var request = Request(purposeId, method, new Uri(_otherAddress, path));

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => http.SendAsync(request));

        Assert.IsType<DisclosureRefusedException>(ex is DisclosureRefusedException ? ex : ex.InnerException);
        Assert.Empty(_atOtherHost);
        Assert.Empty(_atProvider);
    }

    private static HttpRequestMessage Request(string purposeId, string method, Uri url) =>
        new HttpRequestMessage(new HttpMethod(method), url)
        {
            Content = method == "POST" ? new FormUrlEncodedContent([new("grant_type", "account_credentials")]) : null,
        }.DeclareDisclosure(DisclosureContext.WithoutPersonalData(DisclosurePolicy.Cafetalk.GetPurpose(purposeId)));
}
