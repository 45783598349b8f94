using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Erasure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Operations;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Bookings;

/// <summary>What poison storage holds in Azurite: contract fields only, for a week, and nothing of an erased member.</summary>
public sealed class PoisonStorageTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IDisposable
{
    private static readonly DateTimeOffset Lesson = new DateTimeOffset(TimeProvider.System.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero).AddDays(10).AddHours(10);
    private ServiceProvider? _services;

    private ServiceProvider Services => _services ??= fixture.CreateServices();

    public void Dispose() => _services?.Dispose();

    private static string NewId(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 17)];

    [Fact]
    public async Task Sweep_EventTheHostPoisonedWhole_IsMinimisedWithATimeToLive_AndReplaysToTheSameBooking()
    {
        await fixture.Storage.EnsureProvisionedAsync();
        var (lecturer, booking) = (NewId("lec"), NewId("bk"));
        var raw = SampleEvents.Booking(EventTypes.BookingConfirmed, booking, 1, Lesson, lecturerId: lecturer, eventId: NewId("evt"));
        var poisonQueue = fixture.Storage.Queue(QueueNames.BookingEventsPoison);
        // What the Functions host does after maxDequeueCount failed attempts: the raw message, whole, into {queue}-poison.
        await poisonQueue.SendMessageAsync(raw);
        var hostPoisonedZoom = fixture.Storage.Queue(QueueNames.ZoomEvents + "-poison");
        await hostPoisonedZoom.CreateIfNotExistsAsync();
        await hostPoisonedZoom.SendMessageAsync("{\"meetingId\":\"8123\",\"downloadToken\":\"zoom-download-token-abc\"}");

        var swept = await Services.GetRequiredService<HostPoisonSweeper>().SweepAsync();

        Assert.Equal(2, swept);
        Assert.Empty((await hostPoisonedZoom.PeekMessagesAsync(32)).Value);
        var stored = (await poisonQueue.PeekMessagesAsync(32)).Value;
        var all = string.Join("\n", stored.Select(m => m.Body.ToString()));
        Assert.All(SampleEvents.PlantedPersonalValues, value => Assert.DoesNotContain(value, all, StringComparison.Ordinal));
        Assert.DoesNotContain("zoom-download-token-abc", all, StringComparison.Ordinal);
        Assert.All(stored, m => Assert.InRange(m.ExpiresOn!.Value, m.InsertedOn!.Value.AddDays(7).AddMinutes(-1), m.InsertedOn!.Value.AddDays(7).AddMinutes(1)));
        var entry = stored.Select(m => PoisonEnvelope.TryParse(m.Body.ToString())!).Single(e => e.SourceQueue == QueueNames.BookingEvents);
        Assert.Equal(HostPoisonSweeper.ProcessingFailed, entry.Reason);

        var replayed = await Services.GetRequiredService<PoisonReplayer>().ReplayAsync(QueueNames.BookingEventsPoison, dryRun: false, includeStillInvalid: false, max: 32);

        Assert.Contains(replayed, r => r.Replayed && r.SourceQueue == QueueNames.BookingEvents);
        Assert.Contains(replayed, r => !r.Replayed && r.StillRejected?.Reason == PoisonReplayer.DigestOnly);
        var requeued = Assert.Single((await fixture.Storage.Queue(QueueNames.BookingEvents).ReceiveMessagesAsync(32)).Value);
        var parser = Services.GetRequiredService<BookingEventParser>();
        Assert.Equal(parser.Parse(raw).Booking, parser.Parse(requeued.Body.ToString()).Booking);
    }

    [Fact]
    public async Task PoisonErasureStep_DeletesTheMembersEntriesAndOldBlobs_AndLeavesOthers()
    {
        await fixture.Storage.EnsureProvisionedAsync();
        var (erased, other) = (NewId("stu"), NewId("stu"));
        var poison = Services.GetRequiredService<PoisonQueue>();
        await poison.RejectAsync(QueueNames.BookingEvents, SampleEvents.Booking(EventTypes.BookingConfirmed, NewId("bk"), 1, Lesson, studentId: erased, durationMinutes: 0), RejectionReasons.DurationOutOfRange, "d", NewId("c"));
        await poison.RejectAsync(QueueNames.BookingEvents, SampleEvents.Booking(EventTypes.BookingConfirmed, NewId("bk"), 1, Lesson, studentId: other, durationMinutes: 0), RejectionReasons.DurationOutOfRange, "d", NewId("c"));
        // A raw copy the host poisoned (not yet swept), and a whole message an older release kept in a blob.
        var hostPoisoned = fixture.Storage.Queue(QueueNames.ErasureRequests + "-poison");
        await hostPoisoned.CreateIfNotExistsAsync();
        await hostPoisoned.SendMessageAsync(SampleEvents.ErasureRequested(erased));
        var blobName = $"{QueueNames.BookingEvents}/old/{erased}.txt";
        await fixture.Storage.BlobContainer(BlobContainerNames.PoisonPayloads).UploadBlobAsync(blobName,
            BinaryData.FromString(SampleEvents.Booking(EventTypes.BookingConfirmed, NewId("bk"), 1, Lesson, studentId: erased)));
        var step = Services.GetServices<IErasureStep>().OfType<PoisonErasureStep>().Single();

        var result = await step.EraseAsync(new ErasureScope(erased, null, [], "erasure-test"), CancellationToken.None);

        Assert.Equal(ErasureStep.Done, result.Outcome);
        Assert.Equal(3, result.Items);
        var left = string.Join("\n", (await fixture.Storage.Queue(QueueNames.BookingEventsPoison).PeekMessagesAsync(32)).Value.Select(m => m.Body.ToString()));
        Assert.DoesNotContain(erased, left, StringComparison.Ordinal);
        Assert.Contains(other, left, StringComparison.Ordinal);
        Assert.Empty((await hostPoisoned.PeekMessagesAsync(32)).Value);
        Assert.False((await fixture.Storage.BlobContainer(BlobContainerNames.PoisonPayloads).GetBlobClient(blobName).ExistsAsync()).Value);
    }
}
