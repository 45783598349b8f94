using Azure;
using Azure.Core;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Cli.Draining;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cafetalk.Integrations.IntegrationTests.Cli;

/// <summary><c>drain</c> against Azurite: a message that fails is left for a retry, as the host leaves it, whatever the storage SDK threw.</summary>
public sealed class QueueDrainerTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    /// <summary>
    /// Regression (found by the fault suite's storage outage): the storage SDK reports exhausted retries as an
    /// AggregateException, which the drain did not catch, so one failed message ended the whole drain.
    /// </summary>
    [Fact]
    public async Task Drain_StorageFailsForOneMessage_CountsItFailedLeavesItQueuedAndDrainsTheRest()
    {
        var outage = new FailOneBookingsWrite();
        await using var services = fixture.CreateServices(configure: s => s.Replace(ServiceDescriptor.Singleton(
            StorageAccount.FromConnectionString(fixture.Sandbox.StorageConnectionString).WithClientOptions(o => o.AddPolicy(outage, HttpPipelinePosition.PerCall)))));
        var storage = services.GetRequiredService<StorageAccount>();
        await storage.EnsureProvisionedAsync();
        var queue = storage.Queue(QueueNames.BookingEvents);
        await queue.ClearMessagesAsync();
        var startsAt = new DateTimeOffset(TimeProvider.System.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero).AddDays(3);
        foreach (var booking in new[] { "bk_drain_1", "bk_drain_2" })
        {
            await queue.SendMessageAsync(SampleEvents.Booking(EventTypes.BookingConfirmed, booking, 1, startsAt, "lec_drain"));
        }

        var drainer = new QueueDrainer(storage, services.GetRequiredService<BookingEventIntake>(), services.GetRequiredService<PoisonQueue>()) { Visibility = TimeSpan.FromSeconds(1) };
        var tally = await drainer.DrainAsync();

        Assert.Equal((2, 1, 1), (tally.Received, tally.Applied, tally.Failed));
        Assert.Equal(1, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var retried = await drainer.DrainAsync();
        Assert.Equal((1, 1, 0), (retried.Received, retried.Applied, retried.Failed));
    }

    /// <summary>The first write to table Bookings fails the way the SDK reports a storage outage once its retries are spent.</summary>
    private sealed class FailOneBookingsWrite : RequestObserver
    {
        private int _failed;

        protected override void Observe(HttpMessage message)
        {
            if (message.Request.Method != RequestMethod.Get && message.Request.Uri.Path.Contains("/Bookings", StringComparison.Ordinal)
                && Interlocked.Exchange(ref _failed, 1) == 0)
            {
                throw new AggregateException("Retry failed after 6 tries.", new RequestFailedException("Connection refused"));
            }
        }
    }
}
