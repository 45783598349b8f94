using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Telemetry;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.IntegrationTests.Telemetry;

/// <summary>
/// Runs the booking system's demo day through intake and converges its bookings on the Zoom simulator, capturing every
/// log line and every measurement of this provider's meters: the instruments fire, and none carries a personal value.
/// </summary>
public sealed class TelemetryPrivacyTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task DemoDayIntakeAndZoomConverge_EmitMetricsAndLogs_WithoutAnyPersonalValue()
    {
        var logs = new CapturedLogs();
        await using var services = fixture.CreateServices(configure: s =>
        {
            s.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
            s.Configure<ZoomOptions>(o => o.RetryBaseDelay = TimeSpan.FromMilliseconds(20));
        });
        var measurements = new ConcurrentQueue<Measured>();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var listener = new MeterListener();
        // Only this provider's meters: other test classes run in parallel on meters of the same name.
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meters))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => measurements.Enqueue(new(instrument.Name, value, tags.ToArray())));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => measurements.Enqueue(new(instrument.Name, value, tags.ToArray())));
        listener.Start();
        await fixture.Storage.EnsureProvisionedAsync();

        var intake = services.GetRequiredService<BookingEventIntake>();
        var messages = SampleEvents.DemoDay(TimeProvider.System.GetUtcNow());
        for (var i = 0; i < messages.Count; i++)
        {
            await intake.ProcessAsync(messages[i], $"msg-{i}");
        }

        var converger = services.GetRequiredService<MeetingConverger>();
        var created = await converger.ConvergeAsync("lec_4412", "bk_demo_0001");
        await converger.ConvergeAsync("lec_2087", "bk_demo_0003");
        await converger.ConvergeAsync("lec_4412", "bk_demo_0002");
        listener.RecordObservableInstruments();

        Assert.Equal(MeetingConvergence.Created, created.Outcome);
        var recorded = measurements.ToArray();
        Assert.Contains(recorded, m => m.Instrument == "cafetalk.events.processed");
        Assert.Contains(recorded, m => m.Instrument == "cafetalk.events.rejected");
        Assert.Contains(recorded, m => m.Instrument == ProviderMetrics.RequestsName && m.Tag("provider") == "zoom" && m.Tag("status_class") == "2xx");
        Assert.Contains(recorded, m => m.Instrument == LedgerMetrics.AppendsName && m.Tag("outcome") == LedgerMetrics.Appended);
        Assert.Contains(recorded, m => m.Instrument == ConvergeMetrics.LagName && m.Tag("provider") == "zoom" && m.Tag("outcome") == "Created" && m.Value >= 0);

        // Dimensions are low-cardinality by design: no member, booking or subject id either.
        var identifiers = new[] { "lec_4412", "lec_2087", "stu_90311", "stu_77120", "stu_55012", "bk_demo_" };
        var tagValues = recorded.SelectMany(m => m.Tags).Select(t => $"{t.Key}={Convert.ToString(t.Value, CultureInfo.InvariantCulture)}").ToList();
        Assert.NotEmpty(tagValues);
        foreach (var value in SampleEvents.PlantedPersonalValues.Concat(identifiers))
        {
            Assert.DoesNotContain(tagValues, t => t.Contains(value, StringComparison.Ordinal));
        }

        var lines = logs.Lines;
        Assert.Contains(lines, l => l.Contains("bk_demo_0001", StringComparison.Ordinal));
        foreach (var planted in SampleEvents.PlantedPersonalValues)
        {
            Assert.DoesNotContain(lines, l => l.Contains(planted, StringComparison.Ordinal));
        }
    }

    private sealed record Measured(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)
    {
        public string? Tag(string key) => Convert.ToString(Tags.FirstOrDefault(t => t.Key == key).Value, CultureInfo.InvariantCulture);
    }
}
