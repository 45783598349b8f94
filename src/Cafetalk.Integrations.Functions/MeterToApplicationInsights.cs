using System.Diagnostics.Metrics;
using System.Globalization;
using Cafetalk.Integrations.Telemetry;
using Microsoft.ApplicationInsights;
using Microsoft.ApplicationInsights.Metrics;
using Microsoft.Extensions.Hosting;

namespace Cafetalk.Integrations.Functions;

/// <summary>
/// Forwards the "Cafetalk.Integrations" meter to Application Insights as custom metrics (the 2.x SDK does not read
/// System.Diagnostics.Metrics itself). Dimensions are passed through as they are: the instruments carry no member data.
/// </summary>
internal sealed class MeterToApplicationInsights(TelemetryClient telemetry) : IHostedService, IDisposable
{
    private readonly MeterListener _listener = new();

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == PipelineMeter.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Track(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Track(instrument, value, tags));
        _listener.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _listener.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => _listener.Dispose();

    private void Track(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var ordered = tags.ToArray().OrderBy(t => t.Key, StringComparer.Ordinal).ToArray();
        var identifier = new MetricIdentifier(MetricIdentifier.DefaultMetricNamespace, instrument.Name, ordered.Select(t => t.Key).ToList());
        var values = ordered.Select(t => Convert.ToString(t.Value, CultureInfo.InvariantCulture) ?? "none").ToArray();
        if (telemetry.GetMetric(identifier).TryGetDataSeries(out var series, true, values))
        {
            series.TrackValue(value);
        }
    }
}
