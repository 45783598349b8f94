using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Functions.Bookings;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Moq;

namespace Cafetalk.Integrations.IntegrationTests.Functions;

/// <summary>The queue-triggered function invoked as a class, the way the host calls it, against Azurite.</summary>
public sealed class BookingEventIntakeFunctionTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private static FunctionContext ContextWithMessageId(string id)
    {
        var binding = new Mock<BindingContext>();
        binding.SetupGet(b => b.BindingData).Returns(new Dictionary<string, object?> { ["Id"] = id });
        var context = new Mock<FunctionContext>();
        context.SetupGet(c => c.BindingContext).Returns(binding.Object);
        return context.Object;
    }

    [Fact]
    public async Task Run_ValidMessage_UpdatesTheDesiredState()
    {
        using var services = fixture.CreateServices();
        var function = new BookingEventIntakeFunction(services.GetRequiredService<BookingEventIntake>());
        var startsAt = TimeProvider.System.GetUtcNow().AddDays(3);

        await function.Run(SampleEvents.Booking(EventTypes.BookingConfirmed, "bk_function_1", 1, startsAt, lecturerId: "lec_function"), ContextWithMessageId("m-1"), CancellationToken.None);

        var row = await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>("lec_function", "bk_function_1");
        Assert.Equal(1L, row.Value.GetInt64("Version"));
    }

    [Fact]
    public async Task Run_BadMessage_CompletesWithoutThrowingSoTheHostNeverRetriesIt()
    {
        using var services = fixture.CreateServices();
        var function = new BookingEventIntakeFunction(services.GetRequiredService<BookingEventIntake>());

        await function.Run("<xml>not an event</xml>", ContextWithMessageId("m-bad-1"), CancellationToken.None);

        var poisoned = (await fixture.Storage.Queue(QueueNames.BookingEventsPoison).PeekMessagesAsync(32)).Value
            .Select(m => PoisonEnvelope.TryParse(m.Body.ToString())!)
            .Single(p => p.CorrelationId == "m-bad-1");
        Assert.Equal(RejectionReasons.NotJson, poisoned.Reason);
    }
}
