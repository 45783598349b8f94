using System.Net;
using System.Text;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace Cafetalk.Integrations.Tests.Zoom;

public sealed class ZoomTokenProviderTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly TokenEndpoint _endpoint = new();

    private ZoomTokenProvider CreateSut()
    {
        var factory = new Mock<IHttpClientFactory>();
        factory.Setup(f => f.CreateClient(ZoomTokenProvider.HttpClientName))
            .Returns(() => new HttpClient(_endpoint, disposeHandler: false) { BaseAddress = new Uri("https://zoom.test/") });
        var options = new ZoomOptions { AccountId = "acc-1", ClientId = "client-1", ClientSecret = "secret-1", TokenRefreshMargin = TimeSpan.FromMinutes(5) };
        return new ZoomTokenProvider(factory.Object, Options.Create(options), _time, NullLogger<ZoomTokenProvider>.Instance, Cafetalk.Integrations.Disclosure.DisclosurePolicy.Cafetalk);
    }

    [Fact]
    public async Task GetToken_ManyConcurrentCallers_OneRequestInFlight()
    {
        using var sut = CreateSut();
        _endpoint.Hold = new TaskCompletionSource();
        var callers = Enumerable.Range(0, 25).Select(_ => sut.GetTokenAsync().AsTask()).ToArray();
        await Task.Delay(50);
        _endpoint.Hold.SetResult();
        var tokens = await Task.WhenAll(callers);

        Assert.Equal(1, _endpoint.Calls);
        Assert.All(tokens, t => Assert.Equal("token-1", t));
    }

    [Fact]
    public async Task GetToken_SendsAccountCredentialsGrantWithBasicAuth()
    {
        using var sut = CreateSut();
        await sut.GetTokenAsync();

        Assert.Equal("POST", _endpoint.LastMethod);
        Assert.Equal("/oauth/token", _endpoint.LastPath);
        Assert.Equal("grant_type=account_credentials&account_id=acc-1", _endpoint.LastBody);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("client-1:secret-1")), _endpoint.LastAuthorization);
    }

    [Fact]
    public async Task GetToken_BeforeRefreshMargin_ReusesCachedToken()
    {
        using var sut = CreateSut();
        await sut.GetTokenAsync();
        _time.Advance(TimeSpan.FromSeconds(3600 - 300 - 1));

        Assert.Equal("token-1", await sut.GetTokenAsync());
        Assert.Equal(1, _endpoint.Calls);
    }

    [Fact]
    public async Task GetToken_InsideRefreshMargin_FetchesNewTokenBeforeExpiry()
    {
        using var sut = CreateSut();
        await sut.GetTokenAsync();
        _time.Advance(TimeSpan.FromSeconds(3600 - 300));

        Assert.Equal("token-2", await sut.GetTokenAsync());
        Assert.Equal(2, _endpoint.Calls);
    }

    [Fact]
    public async Task Invalidate_RefusedToken_NextCallFetchesAgain()
    {
        using var sut = CreateSut();
        var first = await sut.GetTokenAsync();
        sut.Invalidate("some-older-token");
        Assert.Equal(first, await sut.GetTokenAsync());

        sut.Invalidate(first);
        Assert.Equal("token-2", await sut.GetTokenAsync());
    }

    [Fact]
    public async Task GetToken_CredentialsRefused_ThrowsWithoutEchoingSecrets()
    {
        using var sut = CreateSut();
        _endpoint.Status = HttpStatusCode.Unauthorized;

        var ex = await Assert.ThrowsAsync<ZoomAuthenticationException>(() => sut.GetTokenAsync().AsTask());
        Assert.Equal(HttpStatusCode.Unauthorized, ex.Status);
        Assert.DoesNotContain("secret-1", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("client-1", ex.Message, StringComparison.Ordinal);
    }

    private sealed class TokenEndpoint : HttpMessageHandler
    {
        private int _calls;

        public TaskCompletionSource? Hold { get; set; }
        public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;
        public int Calls => Volatile.Read(ref _calls);
        public string? LastMethod { get; private set; }
        public string? LastPath { get; private set; }
        public string? LastBody { get; private set; }
        public string? LastAuthorization { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var n = Interlocked.Increment(ref _calls);
            LastMethod = request.Method.Method;
            LastPath = request.RequestUri!.AbsolutePath;
            LastBody = await request.Content!.ReadAsStringAsync(cancellationToken);
            LastAuthorization = request.Headers.Authorization?.ToString();
            if (Hold is not null)
            {
                await Hold.Task;
            }

            return new HttpResponseMessage(Status)
            {
                Content = new StringContent(Status == HttpStatusCode.OK
                    ? $$"""{"access_token":"token-{{n}}","token_type":"bearer","expires_in":3600}"""
                    : """{"reason":"Invalid client_id or client_secret","error":"invalid_client"}""", Encoding.UTF8, "application/json"),
            };
        }
    }
}
