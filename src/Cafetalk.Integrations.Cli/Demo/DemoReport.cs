using System.Text.Json.Serialization;
using Cafetalk.Integrations.Cli.Draining;

namespace Cafetalk.Integrations.Cli.Demo;

/// <summary>The demo's result as printed by <c>--json</c>: one object, members added as capabilities land.</summary>
internal sealed record DemoReport([property: JsonPropertyName("events")] EventCounts Events)
{
    public static DemoReport From(DrainTally tally) => new(new EventCounts(
        tally.Received,
        tally.Processed,
        tally.Rejected,
        tally.Rejections.Select(r => new RejectionCount(r.Reason, r.Count)).ToList()));
}

internal sealed record EventCounts(
    [property: JsonPropertyName("received")] int Received,
    [property: JsonPropertyName("processed")] int Processed,
    [property: JsonPropertyName("rejected")] int Rejected,
    [property: JsonPropertyName("rejections")] IReadOnlyList<RejectionCount> Rejections);

internal sealed record RejectionCount(
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("count")] int Count);
