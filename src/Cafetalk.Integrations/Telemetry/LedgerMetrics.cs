using System.Diagnostics.Metrics;

namespace Cafetalk.Integrations.Telemetry;

/// <summary>Ledger append transactions by outcome only: a subject reference is pseudonymous but still per member, so it is never a dimension.</summary>
public sealed class LedgerMetrics
{
    public const string AppendsName = "cafetalk.ledger.appends";

    public const string Appended = "appended";
    public const string HeadConflict = "head_conflict";
    public const string GaveUp = "gave_up";

    private readonly Counter<long> _appends;

    public LedgerMetrics(IMeterFactory meterFactory) =>
        _appends = meterFactory.Create(PipelineMeter.Name)
            .CreateCounter<long>(AppendsName, "{transaction}", "Ledger append transactions (one per subject chain), by outcome");

    public void Append(string outcome) => _appends.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
