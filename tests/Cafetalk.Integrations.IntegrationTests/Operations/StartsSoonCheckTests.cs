using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Operations;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Zoom;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.IntegrationTests.Operations;

/// <summary>The starts-soon check (<c>StartsSoonFunction</c>) against Azurite and the Zoom simulator.</summary>
public sealed class StartsSoonCheckTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private static readonly TimeSpan CreateLease = TimeSpan.FromSeconds(30);
    private readonly CapturedLogs _logs = new();
    private readonly ConcurrentQueue<(string Name, long Value, Dictionary<string, object?> Tags)> _measurements = new();
    private MeterListener _listener = null!;
    private ServiceProvider _services = null!;

    private ZoomSimulator Zoom => fixture.Sandbox.Zoom;

    private static DateTimeOffset Now => TimeProvider.System.GetUtcNow();

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
        var meters = _services.GetRequiredService<IMeterFactory>();
        _listener = new MeterListener
        {
            // This provider's meters only: other classes use meters of the same name.
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, meters))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            _measurements.Enqueue((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value))));
        _listener.Start();
        await fixture.Storage.EnsureProvisionedAsync();

        // The check reads every booking starting soon: each test starts from an empty table and no notifications.
        var bookings = fixture.Storage.Table(TableNames.Bookings);
        await foreach (var row in bookings.QueryAsync<TableEntity>(select: ["PartitionKey", "RowKey"]))
        {
            await bookings.DeleteEntityAsync(row.PartitionKey, row.RowKey);
        }

        await fixture.Storage.Queue(QueueNames.SiteNotifications).ClearMessagesAsync();
        Zoom.ClearRequests();
    }

    public async Task DisposeAsync()
    {
        _listener.Dispose();
        await _services.DisposeAsync();
    }

    private async Task IngestAsync(string bookingId, DateTimeOffset startsAt, string lecturerId)
    {
        var outcome = await _services.GetRequiredService<BookingEventIntake>()
            .ProcessAsync(SampleEvents.Booking(EventTypes.BookingConfirmed, bookingId, 1, startsAt, lecturerId: lecturerId), null);
        Assert.Equal(IntakeDisposition.Applied, outcome.Disposition);
    }

    private int MeetingsOf(string bookingId)
    {
        var reference = _services.GetRequiredService<ZoomBookingReference>().For(bookingId);
        return Zoom.Meetings.Count(m => m.Body["agenda"]?.GetValue<string>() == reference);
    }

    private Task<StartsSoonReport> CheckAsync() => _services.GetRequiredService<StartsSoonCheck>().RunAsync();

    private async Task<List<JsonElement>> ProviderProblemsAsync() =>
        [.. (await fixture.Storage.Queue(QueueNames.SiteNotifications).PeekMessagesAsync(32)).Value
            .Select(m => JsonDocument.Parse(m.Body.ToString()).RootElement)
            .Where(e => e.GetProperty("type").GetString() == SiteNotificationTypes.ProviderProblem.Type)];

    [Fact]
    public async Task ALessonStartingSoonWithoutItsMeeting_GetsItFromTheOneMoreTry_LaterStartedAndMatchingOnesCostNoZoomRequest()
    {
        await IngestAsync("bk_soon_ok", Now.AddMinutes(90), "lec_soon_1");
        await _services.GetRequiredService<MeetingConverger>().ConvergeAsync("lec_soon_1", "bk_soon_ok");
        await IngestAsync("bk_soon_missing", Now.AddMinutes(50), "lec_soon_2"); // its converge message was poisoned
        await IngestAsync("bk_soon_later", Now.AddHours(5), "lec_soon_3");
        await IngestAsync("bk_soon_started", Now.AddMinutes(-20), "lec_soon_4");
        Zoom.ClearRequests();

        var report = await CheckAsync();

        Assert.Equal((2, 1), (report.Checked, report.Rescued));
        Assert.Empty(report.AtRisk);
        Assert.Equal("POST", Assert.Single(Zoom.Requests, r => r.IsApi).Method);
        Assert.Equal((1, 1, 0, 0), (MeetingsOf("bk_soon_ok"), MeetingsOf("bk_soon_missing"), MeetingsOf("bk_soon_later"), MeetingsOf("bk_soon_started")));
        Assert.Empty(await ProviderProblemsAsync());
        Assert.DoesNotContain(_measurements, m => m.Name == StartsSoonCheck.AtRiskMetric);

        Zoom.ClearRequests();
        var again = await CheckAsync();
        Assert.Equal((2, 0, 0), (again.Checked, again.Rescued, again.AtRisk.Count));
        Assert.DoesNotContain(Zoom.Requests, r => r.IsApi);
    }

    [Fact]
    public async Task ALessonWhoseMeetingStillCannotBeMade_RaisesTheAlert_AndTellsTheSite_OneIdPerFact()
    {
        await IngestAsync("bk_soon_down", Now.AddMinutes(45), "lec_soon_5");
        Zoom.ClearRequests();
        Zoom.FailNext(1); // the create answers 500; a create is not retried blind, and its lease then holds the booking

        var first = await CheckAsync();
        var second = await CheckAsync();

        var lesson = Assert.Single(first.AtRisk);
        Assert.Equal(("bk_soon_down", 1L, "zoom", "not-created"), (lesson.BookingId, lesson.BookingVersion, lesson.Provider, lesson.Problem));
        Assert.InRange(lesson.MinutesBeforeLesson, 40, 45);
        Assert.Equal(lesson with { MinutesBeforeLesson = Assert.Single(second.AtRisk).MinutesBeforeLesson }, Assert.Single(second.AtRisk));
        Assert.Equal(0, MeetingsOf("bk_soon_down"));

        var told = await ProviderProblemsAsync();
        Assert.Equal(2, told.Count);
        Assert.All(told, n => Assert.Empty(SiteNotificationSchema.Problems(SiteNotificationTypes.ProviderProblem, n.GetProperty("data"))));
        var data = told[0].GetProperty("data");
        Assert.Equal(("bk_soon_down", "lec_soon_5", 1, "zoom", "not-created"),
            (data.GetProperty("bookingId").GetString(), data.GetProperty("lecturerId").GetString(), data.GetProperty("bookingVersion").GetInt32(),
             data.GetProperty("provider").GetString(), data.GetProperty("problem").GetString()));
        // Told twice, one fact: the site keeps one (the minutes left are not part of the id).
        Assert.Equal(told[0].GetProperty("id").GetString(), told[1].GetProperty("id").GetString());

        var alerts = _measurements.Where(m => m.Name == StartsSoonCheck.AtRiskMetric).ToList();
        Assert.Equal(2, alerts.Sum(m => m.Value));
        Assert.All(alerts, m => Assert.Equal(("zoom", "not-created"), ((string?)m.Tags["provider"], (string?)m.Tags["problem"])));
        Assert.Contains(_logs.Lines, l => l.Contains("Lesson bk_soon_down starts in", StringComparison.Ordinal) && l.Contains("zoom side is not-created", StringComparison.Ordinal));
    }
}
