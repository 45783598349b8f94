using System.Collections.Concurrent;

namespace Cafetalk.Integrations.Sandbox;

/// <summary>What each running simulator host received, by its base address: the source of the wire log.</summary>
public static class WireTap
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<ObservedRequest>> Hosts = new(StringComparer.Ordinal);

    /// <summary>The live record of the host at <paramref name="simulator"/> (empty when no such host is running).</summary>
    public static IReadOnlyCollection<ObservedRequest> Of(Uri simulator) =>
        Hosts.TryGetValue(simulator.ToString(), out var requests) ? requests : [];

    internal static ConcurrentQueue<ObservedRequest> Open(Uri simulator) => Hosts[simulator.ToString()] = new();

    internal static void Close(Uri simulator) => Hosts.TryRemove(simulator.ToString(), out _);
}
