using System.Collections.Concurrent;
using System.Net.Http.Json;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Cafetalk.Integrations.IntegrationTests.Disclosure.LedgerScenario;

namespace Cafetalk.Integrations.IntegrationTests.Disclosure;

/// <summary>The gate on a real provider HttpClient, against a loopback Kestrel server that records what reached it.</summary>
public sealed class DisclosureGateWireTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private const string Email = "hanako@example.com";
    private static readonly DisclosurePurpose Suppression = DisclosurePolicy.Cafetalk.GetPurpose(DisclosurePolicy.PurposeIds.NewsletterSuppression);

    private readonly ConcurrentQueue<(string Method, string PathAndQuery, string Body)> _received = new();
    private WebApplication? _server;
    private Uri? _address;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _server = builder.Build();
        _server.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            _received.Enqueue((context.Request.Method, context.Request.Path + context.Request.QueryString, await reader.ReadToEndAsync()));
            context.Response.StatusCode = StatusCodes.Status201Created;
            await context.Response.WriteAsJsonAsync(new { id = 85746065 });
        });
        await _server.StartAsync();
        _address = new Uri(_server.Urls.First());
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task CreateMeeting_AllowlistedPayloadWithIntents_ReachesTheServerAsSent()
    {
        await using var services = CreateServices();
        var (client, context) = await MeetingClientAndContextAsync(services);

        using var response = await client.SendAsync(MeetingRequest(context, new { type = 2, topic = "Cafetalk lesson", start_time = "2026-03-02T10:00:00Z", duration = 25, agenda = "ref-1" }));

        response.EnsureSuccessStatusCode();
        var received = Assert.Single(_received);
        Assert.Equal(("POST", "/v2/users/host-1/meetings"), (received.Method, received.PathAndQuery));
        Assert.Equal("""{"type":2,"topic":"Cafetalk lesson","start_time":"2026-03-02T10:00:00Z","duration":25,"agenda":"ref-1"}""", received.Body);
    }

    [Fact]
    public async Task CreateMeeting_PayloadWithOneExtraField_NeverReachesTheServer()
    {
        await using var services = CreateServices();
        var (client, context) = await MeetingClientAndContextAsync(services);

        var ex = await Assert.ThrowsAsync<DisclosureRefusedException>(() =>
            client.SendAsync(MeetingRequest(context, new { type = 2, topic = "Cafetalk lesson", start_time = "2026-03-02T10:00:00Z", contact_email = Email })));

        Assert.Equal("contact_email", ex.FieldPath);
        Assert.DoesNotContain(Email, ex.Message, StringComparison.Ordinal);
        Assert.Empty(_received);
    }

    [Fact]
    public async Task Send_RequestWithoutDeclaredPurpose_NeverReachesTheServer()
    {
        await using var services = CreateServices();
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(DisclosurePolicy.Zoom));

        await Assert.ThrowsAsync<DisclosureRefusedException>(() => client.GetAsync(new Uri("/v2/meetings/1", UriKind.Relative)));

        Assert.Empty(_received);
    }

    [Fact]
    public async Task Send_HandlerAddedAfterTheGateAddsAField_StillRefused()
    {
        // The gate is appended after every configured handler, so a handler registered later cannot slip a field past it.
        await using var services = CreateServices(s => s.AddHttpClient(nameof(DisclosurePolicy.Zoom)).AddHttpMessageHandler(() => new QueryAddingHandler()));
        var (client, context) = await MeetingClientAndContextAsync(services);

        var ex = await Assert.ThrowsAsync<DisclosureRefusedException>(() => client.SendAsync(MeetingRequest(context, new { type = 2 })));

        Assert.Equal("query:email", ex.FieldPath);
        Assert.Empty(_received);
    }

    [Fact]
    public async Task DeleteSuppression_EmailInPath_NeedsAMemberIntentThenReachesTheServer()
    {
        await using var services = CreateServices();
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(DisclosurePolicy.MailService));
        var path = new Uri($"/v3/asm/groups/42/suppressions/{Uri.EscapeDataString(Email)}", UriKind.Relative);

        var refused = await Assert.ThrowsAsync<DisclosureRefusedException>(() => client.SendAsync(
            new HttpRequestMessage(HttpMethod.Delete, path).DeclareDisclosure(DisclosureContext.WithoutPersonalData(Suppression))));
        Assert.Empty(_received);
        var intent = await services.GetRequiredService<DisclosureLedger>().RecordIntentAsync(
            new DisclosureIntent(Suppression, "resubscribe", Unique("mem"), SubjectRole.Member, "consent-9", "corr-9", DataItems: ["path:email"]));
        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, path).DeclareDisclosure(DisclosureContext.For(Suppression, [intent])));

        Assert.Equal("path:email", refused.FieldPath);
        Assert.DoesNotContain(Email, refused.Message, StringComparison.Ordinal);
        Assert.Equal(["path:email"], intent.Intent.DataItems);
        var received = Assert.Single(_received);
        Assert.Equal(("DELETE", "/v3/asm/groups/42/suppressions/hanako@example.com"), (received.Method, received.PathAndQuery));
    }

    private ServiceProvider CreateServices(Action<IServiceCollection>? configure = null) => fixture.CreateServices(Time(), services =>
    {
        services.AddHttpClient(nameof(DisclosurePolicy.Zoom), c => c.BaseAddress = _address).AddDisclosureGate(DisclosurePolicy.Zoom);
        services.AddHttpClient(nameof(DisclosurePolicy.MailService), c => c.BaseAddress = _address).AddDisclosureGate(DisclosurePolicy.MailService);
        // This loopback server stands in for both recipients, as the simulators do in the Sandbox.
        services.Configure<DisclosureDestinationOptions>(o =>
        {
            o.SandboxOrigins[DisclosurePolicy.Zoom.Key] = [_address!];
            o.SandboxOrigins[DisclosurePolicy.MailService.Key] = [_address!];
        });
        configure?.Invoke(services);
    });

    private static async Task<(HttpClient Client, DisclosureContext Context)> MeetingClientAndContextAsync(ServiceProvider services)
    {
        var intents = await services.GetRequiredService<DisclosureLedger>().RecordIntentsAsync(
            [Intent(Meeting, Unique("lec"), SubjectRole.Lecturer, "bk-w"), Intent(Meeting, Unique("stu"), SubjectRole.Student, "bk-w")]);
        return (services.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(DisclosurePolicy.Zoom)), DisclosureContext.For(Meeting, intents));
    }

    private static HttpRequestMessage MeetingRequest(DisclosureContext context, object body) =>
        new HttpRequestMessage(HttpMethod.Post, new Uri("/v2/users/host-1/meetings", UriKind.Relative)) { Content = JsonContent.Create(body) }
            .DeclareDisclosure(context);

    private sealed class QueryAddingHandler : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.RequestUri = new Uri(request.RequestUri + "?email=" + Uri.EscapeDataString(Email));
            return base.SendAsync(request, cancellationToken);
        }
    }
}
