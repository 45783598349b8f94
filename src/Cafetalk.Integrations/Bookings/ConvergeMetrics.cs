using System.Diagnostics.Metrics;
using Azure.Data.Tables;
using Cafetalk.Integrations.Telemetry;

namespace Cafetalk.Integrations.Bookings;

/// <summary>Seconds from a booking's desired state changing (<c>DesiredChangedAtUtc</c>) to a provider made to match it.</summary>
public sealed class ConvergeMetrics(IMeterFactory meterFactory, TimeProvider time)
{
    public const string LagName = "cafetalk.converge.lag";

    private readonly Histogram<double> _lag = meterFactory.Create(PipelineMeter.Name)
        .CreateHistogram<double>(LagName, "s", "Seconds from a desired-state change to the provider matching it");

    /// <summary>Records the lag for <paramref name="row"/>, the Bookings row the converger acted on.</summary>
    public void Converged(string provider, string outcome, TableEntity row)
    {
        if (row.GetDateTimeOffset(BookingRow.DesiredChangedAtUtc) is not { } changedAt)
        {
            return;
        }

        var lag = Math.Max(0, (time.GetUtcNow() - changedAt).TotalSeconds);
        _lag.Record(lag, new KeyValuePair<string, object?>("provider", provider), new KeyValuePair<string, object?>("outcome", outcome));
    }
}
