using System.Text.Json.Serialization;
using Cafetalk.Integrations.Cli.Draining;

namespace Cafetalk.Integrations.Cli.Demo;

/// <summary>The demo's result as printed by <c>--json</c>.</summary>
internal sealed record DemoReport(
    [property: JsonPropertyName("events")] EventCounts Events,
    [property: JsonPropertyName("providerRequests"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ProviderCounts? ProviderRequests = null,
    [property: JsonPropertyName("ledger"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] LedgerSummary? Ledger = null,
    [property: JsonPropertyName("duplicates"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DuplicateCounts? Duplicates = null,
    [property: JsonPropertyName("leaks"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] LeakCounts? Leaks = null,
    [property: JsonPropertyName("siteNotifications"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, int>? SiteNotifications = null,
    [property: JsonPropertyName("startsSoon"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] StartsSoonCounts? StartsSoon = null,
    [property: JsonIgnore] IReadOnlyList<SiteViewOfABooking>? SiteView = null,
    [property: JsonPropertyName("outsideChanges"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] OutsideChangeCounts? OutsideChanges = null,
    [property: JsonPropertyName("zoomHosts"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ZoomHostCounts? ZoomHosts = null)
{
    public static DemoReport From(DrainTally tally) => new(EventCounts.From(tally));
}

/// <summary>The site's view of one booking: each notification it received about it (once per id), and how many were redeliveries.</summary>
internal sealed record SiteViewOfABooking(string BookingId, IReadOnlyList<string> Notifications, int Redelivered);

internal sealed record EventCounts(
    [property: JsonPropertyName("received")] int Received,
    [property: JsonPropertyName("processed")] int Processed,
    [property: JsonPropertyName("rejected")] int Rejected,
    [property: JsonPropertyName("rejections")] IReadOnlyList<RejectionCount> Rejections)
{
    public static EventCounts From(DrainTally tally) => new(
        tally.Received, tally.Processed, tally.Rejected, tally.Rejections.Select(r => new RejectionCount(r.Reason, r.Count)).ToList());
}

internal sealed record RejectionCount(
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("count")] int Count);

internal sealed record ProviderCounts(
    [property: JsonPropertyName("zoom")] int Zoom,
    [property: JsonPropertyName("google")] int Google,
    [property: JsonPropertyName("vimeo")] int Vimeo,
    [property: JsonPropertyName("mail")] int Mail);

internal sealed record LedgerSummary(
    [property: JsonPropertyName("rows")] long Rows,
    [property: JsonPropertyName("verified")] bool Verified);

internal sealed record DuplicateCounts(
    [property: JsonPropertyName("zoom")] int Zoom,
    [property: JsonPropertyName("google")] int Google);

internal sealed record LeakCounts(
    [property: JsonPropertyName("fieldsOutsideAllowlist")] int FieldsOutsideAllowlist);

internal sealed record StartsSoonCounts(
    [property: JsonPropertyName("checked")] int Checked,
    [property: JsonPropertyName("rescued")] int Rescued,
    [property: JsonPropertyName("atRisk")] int AtRisk);

/// <summary>
/// Zoom hosts that hold meetings, pairs of meetings overlapping on one host (Zoom would let only one start), and lessons
/// whose Zoom meeting was put off (no free pool host, or still missing at the starts-soon check) as the site heard it.
/// </summary>
internal sealed record ZoomHostCounts(
    [property: JsonPropertyName("used")] int Used,
    [property: JsonPropertyName("overlaps")] int Overlaps,
    [property: JsonPropertyName("deferred")] int Deferred);
