using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Storage;

/// <summary>The one shell every queue handler runs in, against Azurite: what a refused message leaves behind, and what a read one gets.</summary>
public sealed class QueueMessageRunnerTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private sealed record Note(string Text);

    private static QueueMessageReading<Note> ReadNote(string message) => message.StartsWith("note:", StringComparison.Ordinal)
        ? QueueMessageReading.Read(new Note(message[5..]))
        : QueueMessageReading.Refused<Note>("not-a-note", "message does not start with note:");

    private async Task<List<PoisonEnvelope>> PoisonedAsync(string correlationId)
    {
        var peeked = (await fixture.Storage.Queue(QueueNames.BookingEventsPoison).PeekMessagesAsync(32)).Value;
        return [.. peeked.Select(m => PoisonEnvelope.TryParse(m.Body.ToString())!).Where(p => p.CorrelationId == correlationId)];
    }

    [Fact]
    public async Task RunAsync_RefusedMessage_PoisonedOnceWithItsReason_HandlerNeverCalled_RefusalAnswered()
    {
        using var services = fixture.CreateServices();
        var runner = services.GetRequiredService<QueueMessageRunner>();
        var handled = 0;

        var answer = await runner.RunAsync<Note, string>(QueueNames.ZoomConverge, "{\"lecturerId\":\"lec_runner\"}", "m-runner-refused", ReadNote,
            (_, _) => { handled++; return Task.FromResult("handled"); },
            (reading, correlationId) => $"refused {reading.Reason} {correlationId}");

        Assert.Equal("refused not-a-note m-runner-refused", answer);
        Assert.Equal(0, handled);
        var envelope = Assert.Single(await PoisonedAsync("m-runner-refused"));
        Assert.Equal(("not-a-note", "message does not start with note:", QueueNames.ZoomConverge), (envelope.Reason, envelope.Detail, envelope.SourceQueue));
        // Nothing else is lost: the original's contract fields are kept for a replay, and its digest names it.
        Assert.Contains("lec_runner", envelope.Message, StringComparison.Ordinal);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("{\"lecturerId\":\"lec_runner\"}"u8)), envelope.OriginalSha256);
    }

    [Fact]
    public async Task RunAsync_RefusedMessageKeptAsSomethingElse_StoresThatInsteadOfTheOriginal()
    {
        using var services = fixture.CreateServices();
        var runner = services.GetRequiredService<QueueMessageRunner>();

        await runner.RunAsync<Note, string?>(QueueNames.ZoomEvents, "secret-token-in-here", "m-runner-withheld",
            _ => QueueMessageReading.Refused<Note>("not-a-note", "withheld") with { KeptAs = "(withheld)" }, (_, _) => Task.FromResult<string?>("handled"));

        var envelope = Assert.Single(await PoisonedAsync("m-runner-withheld"));
        Assert.DoesNotContain("secret-token", envelope.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ReadMessage_HandledWithItsValueAndCorrelationId_NothingPoisoned_AndRetryPutsTheOriginalBack()
    {
        using var services = fixture.CreateServices();
        var runner = services.GetRequiredService<QueueMessageRunner>();
        var queue = fixture.Storage.Queue(QueueNames.RecordingConverge);
        await runner.RunAsync<Note, bool>(QueueNames.RecordingConverge, "note:warm-up", "m-runner-warm", ReadNote, (_, _) => Task.FromResult(true));
        await queue.ClearMessagesAsync();

        var answer = await runner.RunAsync<Note, string>(QueueNames.RecordingConverge, "note:hello", "m-runner-read", ReadNote, async (message, ct) =>
        {
            await message.RetryAtAsync(TimeProvider.System.GetUtcNow(), ct);
            return $"{message.Value.Text} {message.CorrelationId} {message.Queue}";
        });

        Assert.Equal($"hello m-runner-read {QueueNames.RecordingConverge}", answer);
        Assert.Empty(await PoisonedAsync("m-runner-read"));
        var back = Assert.Single((await queue.PeekMessagesAsync(32)).Value);
        Assert.Equal("note:hello", back.Body.ToString());
    }
}
