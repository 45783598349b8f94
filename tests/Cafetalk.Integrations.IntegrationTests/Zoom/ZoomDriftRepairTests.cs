using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Zoom;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.IntegrationTests.Zoom;

/// <summary>The nightly Zoom repair (<c>ZoomRepairFunction</c>) against Azurite and the Zoom simulator.</summary>
public sealed class ZoomDriftRepairTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private static readonly DateTimeOffset Upcoming = new DateTimeOffset(TimeProvider.System.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero).AddDays(2).AddHours(10);
    private static readonly TimeSpan CreateLease = TimeSpan.FromSeconds(5); // long enough that a loaded machine reaches the second run inside it
    private readonly CapturedLogs _logs = new();
    private ServiceProvider _services = null!;

    private ZoomSimulator Zoom => fixture.Sandbox.Zoom;

    public async Task InitializeAsync()
    {
        _services = fixture.CreateServices(configure: services =>
        {
            services.AddLogging(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));
            services.Configure<ZoomOptions>(o =>
            {
                o.MaxRetryAttempts = 1;
                o.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
                o.RetryMaxDelay = TimeSpan.FromMilliseconds(200);
                o.CreateLease = CreateLease;
            });
        });
        await fixture.Storage.EnsureProvisionedAsync();

        // The pass reads every booking in the table: each test starts from an empty one.
        var bookings = fixture.Storage.Table(TableNames.Bookings);
        await foreach (var row in bookings.QueryAsync<TableEntity>(select: ["PartitionKey", "RowKey"]))
        {
            await bookings.DeleteEntityAsync(row.PartitionKey, row.RowKey);
        }

        Zoom.ClearRequests();
    }

    public async Task DisposeAsync() => await _services.DisposeAsync();

    private async Task IngestAsync(string bookingId, DateTimeOffset startsAt, string lecturerId)
    {
        var outcome = await _services.GetRequiredService<BookingEventIntake>()
            .ProcessAsync(SampleEvents.Booking(EventTypes.BookingConfirmed, bookingId, 1, startsAt, lecturerId: lecturerId), null);
        Assert.NotEqual(IntakeDisposition.Rejected, outcome.Disposition);
    }

    private int MeetingsOf(string bookingId)
    {
        var reference = _services.GetRequiredService<ZoomBookingReference>().For(bookingId);
        return Zoom.Meetings.Count(m => m.Body["agenda"]?.GetValue<string>() == reference);
    }

    private List<RecordedZoomRequest> Api() => [.. Zoom.Requests.Where(r => r.IsApi)];

    private Task<ZoomRepairReport> RepairAsync() => _services.GetRequiredService<ZoomDriftRepair>().RunAsync();

    [Fact]
    public async Task Repair_BookingWhoseConvergeMessageWasLost_GetsItsMeeting_MatchingOnesCostNoRequest_StartedOnesAreLeftAlone()
    {
        await IngestAsync("bk_drift_ok", Upcoming, "lec_drift_1");
        await _services.GetRequiredService<MeetingConverger>().ConvergeAsync("lec_drift_1", "bk_drift_ok");
        await IngestAsync("bk_drift_lost", Upcoming.AddHours(1), "lec_drift_2"); // its zoom-converge message never handled
        await IngestAsync("bk_drift_started", TimeProvider.System.GetUtcNow().AddMinutes(-30), "lec_drift_3");
        Zoom.ClearRequests();

        var first = await RepairAsync();
        var firstApi = Api();
        Zoom.ClearRequests();
        var second = await RepairAsync();

        Assert.Equal(new ZoomRepairReport(Checked: 2, Repaired: 1, Deferred: 0, Failed: 0), first);
        Assert.Equal("POST", Assert.Single(firstApi).Method);
        Assert.Equal(1, MeetingsOf("bk_drift_ok"));
        Assert.Equal(1, MeetingsOf("bk_drift_lost"));
        Assert.Equal(0, MeetingsOf("bk_drift_started"));
        Assert.Equal(new ZoomRepairReport(Checked: 2, Repaired: 0, Deferred: 0, Failed: 0), second);
        Assert.Empty(Api());
    }

    [Fact]
    public async Task Repair_OneBookingsCreateFails_TheRestAreStillRepaired_AndALaterRunRepairsItOnce()
    {
        await IngestAsync("bk_drift_fails", Upcoming, "lec_drift_a"); // listed first: partition lec_drift_a
        await IngestAsync("bk_drift_fine", Upcoming, "lec_drift_b");
        Zoom.ClearRequests();
        Zoom.FailNext(1); // the first booking's create: a 500 on a create is not retried blind

        var first = await RepairAsync();

        Assert.Equal(new ZoomRepairReport(Checked: 2, Repaired: 1, Deferred: 0, Failed: 1), first);
        Assert.Equal(0, MeetingsOf("bk_drift_fails"));
        Assert.Equal(1, MeetingsOf("bk_drift_fine"));
        Assert.Contains(_logs.Lines, l => l.Contains("Zoom repair of booking bk_drift_fails failed", StringComparison.Ordinal));

        // The failed create may have reached Zoom, so its lease holds the booking until it expires: no blind second create.
        Zoom.ClearRequests();
        var soon = await RepairAsync();
        Assert.Equal(new ZoomRepairReport(Checked: 2, Repaired: 0, Deferred: 1, Failed: 0), soon);
        Assert.Empty(Api());

        await Task.Delay(CreateLease + TimeSpan.FromMilliseconds(500));
        var later = await RepairAsync();

        Assert.Equal(new ZoomRepairReport(Checked: 2, Repaired: 1, Deferred: 0, Failed: 0), later);
        Assert.Equal(1, MeetingsOf("bk_drift_fails"));
        Assert.Equal(1, MeetingsOf("bk_drift_fine"));
    }
}
