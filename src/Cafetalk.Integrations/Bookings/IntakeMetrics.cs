using System.Diagnostics.Metrics;
using Cafetalk.Integrations.Telemetry;

namespace Cafetalk.Integrations.Bookings;

/// <summary>Counters for intake; dimensions are event types and reason codes, never member data.</summary>
public sealed class IntakeMetrics : IDisposable
{
    public const string ProcessedName = "cafetalk.events.processed";
    public const string RejectedName = "cafetalk.events.rejected";

    private readonly Meter _meter;
    private readonly Counter<long> _processed;
    private readonly Counter<long> _rejected;

    public IntakeMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(PipelineMeter.Name);
        _processed = _meter.CreateCounter<long>(ProcessedName, description: "Events accepted by intake");
        _rejected = _meter.CreateCounter<long>(RejectedName, description: "Events moved to the poison queue");
    }

    public void Processed(string type, string result) =>
        _processed.Add(1, new KeyValuePair<string, object?>("event.type", type), new KeyValuePair<string, object?>("result", result));

    public void Rejected(string reason) => _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => _meter.Dispose();
}
