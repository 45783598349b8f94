using Cafetalk.Integrations.Cli.Serving;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Functions;

/// <summary>
/// Garbage on every queue a function listens to, run the way the host runs it: each message is refused once with
/// a reason in the poison queue (never retried hot), nothing is left behind, and no provider hears of it.
/// </summary>
public sealed class QueueGarbageTests(ServedSandboxFixture fixture) : IClassFixture<ServedSandboxFixture>
{
    private static readonly string[] Garbage =
    [
        "this is not json",
        "{}",
        "[1,2,3]",
        "{\"specversion\":\"1.0\",\"id\":\"x\",\"source\":\"/x\",\"type\":\"com.cafetalk.unknown\",\"data\":{}}",
        "{\"lecturerId\":\"lec 1/../x\",\"bookingId\":\"\"}",
        // Found by fuzzing: converge requests whose ids are not table keys made the convergers' table reads fail (retried, never refused).
        "{\"lecturerId\":\"a/b\",\"bookingId\":\"tOsJYU8bHPtEg\"}",
        // ... and so did suppression requests naming a subject that is not a pseudonym.
        "{\"subjectRef\":\"sub-0/0\",\"list\":\"lessons.tips\"}",
    ];

    [Fact]
    public async Task EveryQueueFunction_RefusesGarbageOnceWithAReason_AndCallsNoProvider()
    {
        var storage = fixture.Storage;
        await storage.EnsureProvisionedAsync();
        var queues = LocalQueuePump.ReadFunctions().Select(f => f.Queue).Distinct().ToList();
        Assert.Contains(QueueNames.ZoomEvents, queues);
        await storage.Queue(QueueNames.BookingEventsPoison).ClearMessagesAsync();
        var providerRequestsBefore = fixture.Sandbox.WireRequests().Count;
        foreach (var queue in queues)
        {
            foreach (var message in Garbage)
            {
                await storage.Queue(queue).SendMessageAsync(message);
            }
        }

        await ActivatorUtilities.CreateInstance<LocalQueuePump>(fixture.Services).RunUntilIdleAsync();

        var poisoned = new List<PoisonEnvelope>();
        var poisonQueue = storage.Queue(QueueNames.BookingEventsPoison);
        while ((await poisonQueue.ReceiveMessagesAsync(32)).Value is { Length: > 0 } batch)
        {
            foreach (var message in batch)
            {
                poisoned.Add(PoisonEnvelope.TryParse(message.Body.ToString())!);
                await poisonQueue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }

        foreach (var queue in queues)
        {
            // Nothing lost: every message is either still to be retried (none should be) or poisoned with its reason.
            Assert.Equal(0, (await storage.Queue(queue).GetPropertiesAsync()).Value.ApproximateMessagesCount);
            var fromQueue = poisoned.Where(p => p.SourceQueue == queue).ToList();
            Assert.True(fromQueue.Count == Garbage.Length, $"{queue}: {fromQueue.Count} of {Garbage.Length} garbage messages poisoned");
            Assert.All(fromQueue, p => Assert.False(string.IsNullOrWhiteSpace(p.Reason)));
        }

        Assert.Equal(providerRequestsBefore, fixture.Sandbox.WireRequests().Count);
    }
}
