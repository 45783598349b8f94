using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Cafetalk.Integrations.Cli.Serving;
using Cafetalk.Integrations.Erasure;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Zoom;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Cafetalk.Integrations.IntegrationTests.Security;

/// <summary>
/// What the HTTP functions refuse before they do any work: bodies over each route's own limit (413, whether or not
/// Content-Length announced them), oversized request lines and headers, and clients that trickle headers or a body.
/// The server runs with the production limits except for shorter times, so slow clients are cut off in seconds.
/// </summary>
public sealed class HttpLimitsTests(SandboxFixture fixture, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private static readonly TimeSpan HeadersTimeout = TimeSpan.FromSeconds(2);
    private static readonly MinDataRate BodyRate = new(bytesPerSecond: 100, gracePeriod: TimeSpan.FromSeconds(2));

    /// <summary>Every route that takes a body, with the limit its own code reads it under.</summary>
    private static readonly Dictionary<string, int> BodyLimits = new()
    {
        ["zoom/webhook"] = ZoomWebhookHandler.MaxBodyBytes,
        [NewsletterFlow.UnsubscribeRoute] = NewsletterFlow.MaxBodyBytes,
        [NewsletterFlow.ResubscribeRoute] = NewsletterFlow.MaxBodyBytes,
        [CalendarDisconnectFlow.DisconnectRoute] = CalendarDisconnectFlow.MaxDisconnectBodyBytes,
        [CalendarConnectFlow.ConnectRoute] = CalendarConnectFlow.MaxConfirmBodyBytes,
        [MemberErasureFlow.Route] = MemberErasureFlow.MaxBodyBytes,
        [ZoomStartLinkFlow.Route] = ZoomStartLinkFlow.MaxBodyBytes,
        [CalendarNotifications.Route] = CalendarNotifications.MaxBodyBytes,
    };

    private LocalFunctionsServer _server = null!;

    public static TheoryData<string> RoutesWithABody() => [.. FunctionRouteTable.Read().Where(TakesABody).Select(r => r.Route).Distinct()];

    public async Task InitializeAsync()
    {
        _server = await LocalFunctionsServer.StartAsync(baseUrl =>
        {
            fixture.Sandbox.PublicBaseUrl = baseUrl;
            return fixture.Sandbox.Settings();
        }, configure: services => services.Configure<KestrelServerOptions>(o => (o.Limits.RequestHeadersTimeout, o.Limits.MinRequestBodyDataRate) = (HeadersTimeout, BodyRate)));
        LogCapture.Plant("function-key", _server.FunctionKey);
        await fixture.Storage.EnsureProvisionedAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static bool TakesABody(FunctionRoute route) => route.Methods.Any(m => m is "POST" or "PUT" or "PATCH");

    [Fact]
    public void EveryRouteThatTakesABody_HasItsOwnLimit_UnderTheServersLimit()
    {
        var routes = FunctionRouteTable.Read().Where(TakesABody).Select(r => r.Route).ToHashSet();
        var limits = new KestrelServerLimits();
        LocalFunctionsServer.ApplyLimits(limits);

        Assert.Equal(routes.Order(), BodyLimits.Keys.Order());
        Assert.All(BodyLimits.Values, limit => Assert.InRange(limit, 1, limits.MaxRequestBodySize!.Value / 4));
    }

    [Theory]
    [MemberData(nameof(RoutesWithABody))]
    public async Task BodyOneByteOverTheRoutesLimit_Is413WithProblemDetails_AnnouncedOrChunked(string route)
    {
        var limit = BodyLimits[route];
        using var http = new HttpClient();

        using var announced = await http.SendAsync(Post(route, new ByteArrayContent(new byte[limit + 1])));
        using var chunked = await http.SendAsync(Post(route, new UnannouncedContent(limit + 1)));
        using var atLimit = await http.SendAsync(Post(route, new UnannouncedContent(limit)));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, announced.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunked.StatusCode);
        Assert.Null(chunked.RequestMessage!.Content!.Headers.ContentLength);
        Assert.Equal("application/problem+json", chunked.Content.Headers.ContentType?.MediaType);
        Assert.Contains("413", await chunked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.NotEqual(HttpStatusCode.RequestEntityTooLarge, atLimit.StatusCode);
    }

    [Fact]
    public async Task UrlOver4KB_Is414_AndHeadersOver32KiB_Are431()
    {
        using var http = new HttpClient();

        using var longUrl = await http.GetAsync(new Uri(_server.BaseUrl, "api/newsletter/unsubscribe?t=" + new string('A', 4200)));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_server.BaseUrl, "api/newsletter/unsubscribe?t=x"));
        request.Headers.Add("X-Padding", new string('p', 33 * 1024));
        using var bigHeaders = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestUriTooLong, longUrl.StatusCode);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, bigHeaders.StatusCode);
    }

    [Fact]
    public async Task ClientTricklingHeaders_IsCutOff_WithinTheHeadersTimeout()
    {
        var (elapsed, answer) = await TrickleAsync(
            "POST /api/zoom/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n",
            i => $"X-Slow-{i}: {i}\r\n");

        // Trickling would go on for 20 s; the server ends it after the timeout plus its once-a-second check.
        Assert.InRange(elapsed, HeadersTimeout, HeadersTimeout + TimeSpan.FromSeconds(6));
        Assert.StartsWith("HTTP/1.1 408 ", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientTricklingABody_IsCutOff_OnceBelowTheMinimumRate()
    {
        var (elapsed, answer) = await TrickleAsync(
            "POST /api/zoom/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
            _ => " ");

        Assert.InRange(elapsed, BodyRate.GracePeriod, BodyRate.GracePeriod + TimeSpan.FromSeconds(6));
        Assert.StartsWith("HTTP/1.1 408 ", answer, StringComparison.Ordinal);
    }

    private HttpRequestMessage Post(string route, HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_server.BaseUrl, "api/" + route)) { Content = content };
        request.Headers.Add("x-functions-key", _server.FunctionKey);
        return request;
    }

    /// <summary>
    /// Sends <paramref name="start"/>, then one small piece every 250 ms for up to 20 s, over a raw loopback socket;
    /// returns how long until the server answered or closed, and what it answered.
    /// </summary>
    private async Task<(TimeSpan Elapsed, string Answer)> TrickleAsync(string start, Func<int, string> piece)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _server.BaseUrl.Port);
        var stream = client.GetStream();
        var clock = Stopwatch.StartNew();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(start));
        var buffer = new byte[4096];
        var reading = stream.ReadAsync(buffer).AsTask();
        for (var i = 0; i < 80 && !reading.IsCompleted; i++)
        {
            await Task.WhenAny(reading, Task.Delay(250));
            if (!reading.IsCompleted)
            {
                try
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(piece(i)));
                }
                catch (IOException)
                {
                    break;
                }
            }
        }

        int read;
        try
        {
            read = await reading.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (IOException)
        {
            read = 0;
        }

        var answer = Encoding.ASCII.GetString(buffer, 0, read);
        output.WriteLine($"cut off after {clock.Elapsed.TotalSeconds:0.0} s; answer: {(answer.Length == 0 ? "(connection closed)" : answer.Split("\r\n")[0])}");
        return (clock.Elapsed, answer);
    }

    /// <summary>A body sent chunked, with no Content-Length: the server learns its size only by reading it.</summary>
    private sealed class UnannouncedContent(int length) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(new byte[length]).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
