using System.Text.Json.Nodes;

namespace Cafetalk.Integrations.Sandbox.Zoom;

/// <summary>Facts the simulator reads from <c>Contracts/zoom.contract.json</c>, so the list it enforces is the one cited there.</summary>
public static class ZoomContract
{
    public const string FileName = "zoom.contract.json";

    private static readonly Lazy<JsonObject> Document = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Find(), "src", "Cafetalk.Integrations.Sandbox", "Contracts", FileName))) as JsonObject
        ?? throw new SandboxException($"{FileName} is not a JSON object."));

    private static readonly Lazy<IReadOnlySet<string>> Zones = new(() =>
        ((Operation("meetings.create")["body"]?["timezone"]?["enum"] as JsonArray) ?? throw new SandboxException($"{FileName}: meetings.create has no timezone enum."))
            .Select(z => z!.GetValue<string>())
            .ToHashSet(StringComparer.Ordinal));

    /// <summary>The ids of Zoom's documented time-zone list, the only values <c>timezone</c> takes.</summary>
    public static IReadOnlySet<string> TimeZones => Zones.Value;

    private static JsonObject Operation(string id) =>
        (Document.Value["operations"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(o => o["id"]?.GetValue<string>() == id)
        ?? throw new SandboxException($"{FileName} has no operation {id}.");
}
