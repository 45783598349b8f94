using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Cafetalk.Integrations.Functions.Zoom;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox.Zoom;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Zoom;

/// <summary>POST /api/zoom/webhook invoked as a class, with webhooks signed by the simulator, against Azurite.</summary>
public sealed class ZoomWebhookFunctionTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private ServiceProvider _services = null!;
    private QueueClient _events = null!;

    private ZoomSimulator Zoom => fixture.Sandbox.Zoom;

    public async Task InitializeAsync()
    {
        _services = fixture.CreateServices();
        await fixture.Storage.EnsureProvisionedAsync();
        _events = fixture.Storage.Queue(QueueNames.ZoomEvents);
        await _events.ClearMessagesAsync();
    }

    public async Task DisposeAsync() => await _services.DisposeAsync();

    private Task<IActionResult> PostAsync(string body, string? timestamp, string? signature)
    {
        var context = new DefaultHttpContext();
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Request.Method = "POST";
        context.Request.Body = new MemoryStream(bytes);
        context.Request.ContentLength = bytes.Length;
        if (timestamp is not null)
        {
            context.Request.Headers["x-zm-request-timestamp"] = timestamp;
        }

        if (signature is not null)
        {
            context.Request.Headers["x-zm-signature"] = signature;
        }

        return new ZoomWebhookFunction(_services.GetRequiredService<ZoomWebhookHandler>(), TimeProvider.System).Run(context.Request, CancellationToken.None);
    }

    private Task<IActionResult> PostSignedAsync(SignedZoomWebhook webhook) => PostAsync(webhook.Body, webhook.Timestamp, webhook.Signature);

    private async Task<List<string>> EnqueuedAsync() =>
        [.. (await _events.PeekMessagesAsync(maxMessages: 32)).Value.Select(m => m.Body.ToString())];

    private static void AssertProblem(IActionResult result, int status, string type)
    {
        var problem = Assert.IsType<ObjectResult>(result);
        Assert.Equal(status, problem.StatusCode);
        Assert.Equal(ZoomWebhookFunction.ProblemTypeBase + type, Assert.IsType<ProblemDetails>(problem.Value).Type);
    }

    [Fact]
    public async Task UrlValidation_Signed_AnswersPlainAndEncryptedToken()
    {
        var result = await PostSignedAsync(Zoom.SignWebhook(Zoom.UrlValidationBody("qgg8vlvZRS6UYooatFL8Aw")));

        var content = Assert.IsType<ContentResult>(result);
        Assert.Equal(200, content.StatusCode);
        using var answer = JsonDocument.Parse(content.Content!);
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(ZoomSimulator.WebhookSecretToken), Encoding.UTF8.GetBytes("qgg8vlvZRS6UYooatFL8Aw")));
        Assert.Equal("qgg8vlvZRS6UYooatFL8Aw", answer.RootElement.GetProperty("plainToken").GetString());
        Assert.Equal(expected, answer.RootElement.GetProperty("encryptedToken").GetString());
        Assert.Empty(await EnqueuedAsync());
    }

    [Fact]
    public async Task RecordingCompleted_Signed_EnqueuedOnceWithoutHostEmail()
    {
        var body = Zoom.RecordingCompletedBody(81000000042, "host-rec");

        var first = await PostSignedAsync(Zoom.SignWebhook(body));
        var replayed = await PostSignedAsync(Zoom.SignWebhook(body, TimeProvider.System.GetUtcNow().AddSeconds(20)));

        Assert.IsType<OkObjectResult>(first);
        Assert.IsType<OkObjectResult>(replayed);
        var message = Assert.Single(await EnqueuedAsync());
        using var queued = JsonDocument.Parse(message);
        Assert.Equal("recording.completed", queued.RootElement.GetProperty("event").GetString());
        Assert.Equal(81000000042, queued.RootElement.GetProperty("meetingId").GetInt64());
        Assert.Equal(JsonDocument.Parse(body).RootElement.GetProperty("download_token").GetString(), queued.RootElement.GetProperty("downloadToken").GetString());
        Assert.EndsWith("/rec/download/81000000042/file-1", queued.RootElement.GetProperty("recordingFiles")[1].GetProperty("downloadUrl").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("host.person@example.com", message, StringComparison.Ordinal);
        Assert.DoesNotContain("topic", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MeetingEnded_ObjectIdAStringAsZoomSendsIt_EnqueuedWithTheNumericMeetingId()
    {
        var body = Zoom.MeetingEndedBody(81000000043, "host-end");
        Assert.Equal(JsonValueKind.String, JsonDocument.Parse(body).RootElement.GetProperty("payload").GetProperty("object").GetProperty("id").ValueKind);

        Assert.IsType<OkObjectResult>(await PostSignedAsync(Zoom.SignWebhook(body)));

        using var queued = JsonDocument.Parse(Assert.Single(await EnqueuedAsync()));
        Assert.Equal("meeting.ended", queued.RootElement.GetProperty("event").GetString());
        Assert.Equal("host-end", queued.RootElement.GetProperty("hostId").GetString());
        Assert.Equal(81000000043, queued.RootElement.GetProperty("meetingId").GetInt64());
    }

    [Fact]
    public async Task MeetingEnded_SameEventWithNumericThenStringId_EnqueuedOnce()
    {
        var body = JsonNode.Parse(Zoom.MeetingEndedBody(81000000045, "host-end"))!.AsObject();
        var numeric = body.DeepClone().AsObject();
        numeric["payload"]!["object"]!["id"] = 81000000045;

        Assert.IsType<OkObjectResult>(await PostSignedAsync(Zoom.SignWebhook(numeric.ToJsonString())));
        Assert.IsType<OkObjectResult>(await PostSignedAsync(Zoom.SignWebhook(body.ToJsonString())));

        Assert.Single(await EnqueuedAsync());
    }

    [Fact]
    public async Task MeetingEnded_ObjectIdNotDigits_Is400AndNothingEnqueued()
    {
        var body = JsonNode.Parse(Zoom.MeetingEndedBody(81000000046, "host-end"))!.AsObject();
        body["payload"]!["object"]!["id"] = "81000000046x";

        AssertProblem(await PostSignedAsync(Zoom.SignWebhook(body.ToJsonString())), 400, "bad-body");
        Assert.Empty(await EnqueuedAsync());
    }

    [Fact]
    public async Task Webhook_SignedWithWrongSecret_Is401AndNothingEnqueued()
    {
        var forged = Zoom.SignWebhook(Zoom.RecordingCompletedBody(81000000044, "host-x"), secret: "not-the-secret");

        AssertProblem(await PostSignedAsync(forged), 401, "signature");
        AssertProblem(await PostAsync(forged.Body, forged.Timestamp, null), 401, "signature");
        Assert.Empty(await EnqueuedAsync());
    }

    [Fact]
    public async Task Webhook_TimestampSixMinutesOld_Is401AndNothingEnqueued()
    {
        var stale = Zoom.SignWebhook(Zoom.MeetingEndedBody(81000000045, "host-y"), TimeProvider.System.GetUtcNow().AddMinutes(-6));

        AssertProblem(await PostSignedAsync(stale), 401, "signature");
        Assert.Empty(await EnqueuedAsync());
    }

    [Fact]
    public async Task Webhook_SignedButNotJson_Is400()
    {
        AssertProblem(await PostSignedAsync(Zoom.SignWebhook("{not json")), 400, "bad-body");
        AssertProblem(await PostSignedAsync(Zoom.SignWebhook("""{"payload":{}}""")), 400, "bad-body");
        Assert.Empty(await EnqueuedAsync());
    }

    // Found by fuzzing (HttpRouteFuzzTests, POST /api/zoom/webhook, signed bodies): each of these answered 500 (a payload that
    // is not an object, a repeated key, an unpaired-surrogate escape, a minimised message over the queue's 64 KiB) or 200
    // with a zoom-events message the recording function then refused (an id that is not Zoom's number).
    [Theory]
    [InlineData("payload-array", """{"event":"recording.completed","event_ts":1790000073717,"download_token":"dl-1","payload":[{"object":{"id":81000000046}}]}""")]
    [InlineData("payload-text", """{"event":"meeting.ended","event_ts":1790000073717,"payload":"Mkr!7q9Zx"}""")]
    [InlineData("repeated-key", """{"event_ts":1.5,"event":"meeting.ended","event_ts":1790000458529,"payload":{"object":{"id":81000000047}}}""")]
    [InlineData("surrogate-event", """{"event":"\ud800","payload":{"object":{"id":81000000048}}}""")]
    [InlineData("surrogate-name", """{"\ud800event":"endpoint.url_validation","event_ts":1790000620596,"payload":{"plainToken":"526260fcb563970d75843a7f53be704c"}}""")]
    [InlineData("surrogate-nested-name", """{"event":"endpoint.url_validation","event_ts":1790000096425,"payload":{"\ud800plainToken":"1fec553f917e41f3807d18d557d58904"}}""")]
    [InlineData("surrogate-uuid", """{"event":"meeting.ended","event_ts":1790000073717,"payload":{"object":{"id":81000000049,"uuid":"\ud800"}}}""")]
    [InlineData("id-not-a-number", """{"event":"meeting.ended","event_ts":1790000073717,"payload":{"object":{"id":"Mkr!7q9Zx","uuid":"u=="}}}""")]
    [InlineData("no-id", """{"event":"recording.completed","event_ts":1790000073717,"payload":{"object":{"uuid":"u=="}}}""")]
    [InlineData("event-ts-out-of-range", """{"event":"meeting.ended","event_ts":9223372036854775807,"payload":{"object":{"id":81000000050}}}""")]
    [InlineData("file-id-not-text", """{"event":"recording.completed","event_ts":1790000073717,"payload":{"object":{"id":81000000051,"recording_files":[{"id":1}]}}}""")]
    public async Task Webhook_SignedBodyTheRecordingFunctionWouldRefuse_Is400AndNothingIsWritten(string name, string body)
    {
        var result = await PostSignedAsync(Zoom.SignWebhook(body));

        AssertProblem(result, 400, "bad-body");
        Assert.Empty(await EnqueuedAsync());
        Assert.NotNull(name);
    }

    [Fact]
    public async Task Webhook_SignedRecordingWhoseFilesWouldNotFitTheQueue_Is400AndNothingIsWritten()
    {
        var body = JsonNode.Parse(Zoom.RecordingCompletedBody(81000000052, "host-big"))!;
        body["payload"]!["object"]!["recording_files"]![0]!["download_url"] = "https://zoom.example/" + new string('u', 60_000);
        var seen = fixture.Storage.Table(TableNames.ZoomWebhookEvents);
        var rowsBefore = seen.Query<TableEntity>().Count();

        var result = await PostSignedAsync(Zoom.SignWebhook(body.ToJsonString()));

        AssertProblem(result, 400, "bad-body");
        Assert.Empty(await EnqueuedAsync());
        Assert.Equal(rowsBefore, seen.Query<TableEntity>().Count());
    }

    // Found by fuzzing (HttpRouteFuzzTests, a chunked body over Kestrel's 1 MiB): reading it threw BadHttpRequestException,
    // which the function did not catch, so the server logged an unhandled exception and dropped the connection.
    [Theory]
    [InlineData(StatusCodes.Status413PayloadTooLarge, 413, "too-large")]
    [InlineData(StatusCodes.Status400BadRequest, 400, "bad-body")]
    public async Task Webhook_BodyTheServerRefusesWhileItIsRead_IsAProblemNotAnUnhandledException(int serverStatus, int status, string type)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Body = new BodyTheServerRefuses(serverStatus);

        var result = await new ZoomWebhookFunction(_services.GetRequiredService<ZoomWebhookHandler>(), TimeProvider.System).Run(context.Request, CancellationToken.None);

        AssertProblem(result, status, type);
        Assert.Empty(await EnqueuedAsync());
    }

    /// <summary>A request body as Kestrel hands it over when it refuses it: reading throws BadHttpRequestException.</summary>
    private sealed class BodyTheServerRefuses(int status) : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            throw new BadHttpRequestException("Request body too large.", status);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            throw new BadHttpRequestException("Request body too large.", status);
    }

    [Fact]
    public async Task Webhook_OverSizeLimit_Is413()
    {
        var huge = new string('x', ZoomWebhookHandler.MaxBodyBytes + 1);

        AssertProblem(await PostSignedAsync(Zoom.SignWebhook(huge)), 413, "too-large");
        Assert.Empty(await EnqueuedAsync());
    }
}
