using System.Net;
using System.Text;
using System.Text.Json;
using Cafetalk.Integrations.Cli.Serving;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox.Zoom;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cafetalk.Integrations.IntegrationTests.Security;

/// <summary>
/// POST /api/zoom/webhook over real HTTP on a server whose clock the test moves: forged signatures of every shape,
/// a signed URL-validation challenge under a forged signature, and captured deliveries replayed now and later.
/// Nothing refused reaches <c>zoom-events</c>.
/// </summary>
public sealed class WebhookAttackTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private static long _meetings = 81_900_000_000;
    private readonly FakeTimeProvider _time = new(TimeProvider.System.GetUtcNow());
    private LocalFunctionsServer _server = null!;

    private ZoomSimulator Zoom => fixture.Sandbox.Zoom;

    public async Task InitializeAsync()
    {
        _server = await LocalFunctionsServer.StartAsync(baseUrl =>
        {
            fixture.Sandbox.PublicBaseUrl = baseUrl;
            return fixture.Sandbox.Settings();
        }, configure: services => services.AddSingleton<TimeProvider>(_time));
        LogCapture.Plant("function-key", _server.FunctionKey);
        await fixture.Storage.EnsureProvisionedAsync();
        await fixture.Storage.Queue(QueueNames.ZoomEvents).ClearMessagesAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string MeetingEnded(ZoomSimulator zoom) => zoom.MeetingEndedBody(Interlocked.Increment(ref _meetings), "host-attack");

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string body, string timestamp, string signature)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_server.BaseUrl, "api/zoom/webhook"))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("x-zm-request-timestamp", timestamp);
        request.Headers.TryAddWithoutValidation("x-zm-signature", signature);
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<int> EnqueuedAsync() => (await fixture.Storage.Queue(QueueNames.ZoomEvents).PeekMessagesAsync(32)).Value.Length;

    private static void AssertRefusedAsSignature((HttpStatusCode Status, string Body) answer)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        Assert.Equal("https://cafetalk.com/problems/zoom-webhook/signature", JsonDocument.Parse(answer.Body).RootElement.GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("signature-of-another-body")]
    [InlineData("signature-over-another-timestamp")]
    [InlineData("truncated-by-one")]
    [InlineData("scheme-only")]
    [InlineData("no-scheme")]
    [InlineData("v1-scheme")]
    [InlineData("scheme-in-capitals")]
    [InlineData("hex-in-capitals")]
    [InlineData("extended-by-two")]
    [InlineData("two-signatures")]
    public async Task ForgedSignature_Is401_AndNothingIsEnqueued(string forgery)
    {
        var genuine = Zoom.SignWebhook(MeetingEnded(Zoom), _time.GetUtcNow());
        var other = Zoom.SignWebhook(MeetingEnded(Zoom), _time.GetUtcNow());
        var hex = genuine.Signature["v0=".Length..];
        var (timestamp, signature) = forgery switch
        {
            "signature-of-another-body" => (genuine.Timestamp, other.Signature),
            "signature-over-another-timestamp" => ((long.Parse(genuine.Timestamp, System.Globalization.CultureInfo.InvariantCulture) - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), genuine.Signature),
            "truncated-by-one" => (genuine.Timestamp, genuine.Signature[..^1]),
            "scheme-only" => (genuine.Timestamp, "v0="),
            "no-scheme" => (genuine.Timestamp, hex),
            "v1-scheme" => (genuine.Timestamp, "v1=" + hex),
            "scheme-in-capitals" => (genuine.Timestamp, "V0=" + hex),
            "hex-in-capitals" => (genuine.Timestamp, "v0=" + hex.ToUpperInvariant()),
            "extended-by-two" => (genuine.Timestamp, genuine.Signature + "00"),
            _ => (genuine.Timestamp, genuine.Signature + "," + other.Signature),
        };

        AssertRefusedAsSignature(await PostAsync(genuine.Body, timestamp, signature));
        Assert.Equal(0, await EnqueuedAsync());
    }

    [Fact]
    public async Task UrlValidation_UnderAForgedSignature_Is401_AndSignsNothing()
    {
        var challenge = Zoom.SignWebhook(Zoom.UrlValidationBody("attacker-chosen-plain-token"), _time.GetUtcNow(), secret: "guessed-secret");

        var answer = await PostAsync(challenge.Body, challenge.Timestamp, challenge.Signature);

        AssertRefusedAsSignature(answer);
        Assert.DoesNotContain("encryptedToken", answer.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SameSignedDeliveryTwice_IsAcknowledgedAsDuplicate_AndEnqueuedOnce()
    {
        var delivery = Zoom.SignWebhook(MeetingEnded(Zoom), _time.GetUtcNow());

        var first = await PostAsync(delivery.Body, delivery.Timestamp, delivery.Signature);
        _time.Advance(TimeSpan.FromMinutes(4));
        var replayed = await PostAsync(delivery.Body, delivery.Timestamp, delivery.Signature);

        Assert.Equal((HttpStatusCode.OK, "enqueued"), (first.Status, JsonDocument.Parse(first.Body).RootElement.GetProperty("status").GetString()));
        Assert.Equal((HttpStatusCode.OK, "duplicate"), (replayed.Status, JsonDocument.Parse(replayed.Body).RootElement.GetProperty("status").GetString()));
        Assert.Equal(1, await EnqueuedAsync());
    }

    [Fact]
    public async Task CapturedDeliveryReplayedAfterFiveMinutes_Is401_WhetherOrNotItWasDeliveredBefore()
    {
        var delivered = Zoom.SignWebhook(MeetingEnded(Zoom), _time.GetUtcNow());
        var neverDelivered = Zoom.SignWebhook(MeetingEnded(Zoom), _time.GetUtcNow());
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(delivered.Body, delivered.Timestamp, delivered.Signature)).Status);
        _time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(2));

        var replayed = await PostAsync(delivered.Body, delivered.Timestamp, delivered.Signature);
        var late = await PostAsync(neverDelivered.Body, neverDelivered.Timestamp, neverDelivered.Signature);

        AssertRefusedAsSignature(replayed);
        AssertRefusedAsSignature(late);
        Assert.Contains("5 minutes", late.Body, StringComparison.Ordinal);
        Assert.Equal(1, await EnqueuedAsync());
    }
}
