using System.Collections.Concurrent;

namespace Cafetalk.Integrations.Sandbox.Contracts;

/// <summary>
/// Every contract violation any simulator in this process saw, and how many requests each provider's contract
/// checked: the suite's last test class reads it. Tests that break a contract on purpose take their own
/// violations back out with <see cref="TakeFrom"/>.
/// </summary>
public static class ContractViolations
{
    private static readonly ConcurrentQueue<RecordedViolation> Recorded = new();
    private static readonly ConcurrentDictionary<string, int> CheckedCounts = new(StringComparer.Ordinal);

    /// <summary>One violation, with the base address of the simulator that saw it.</summary>
    public sealed record RecordedViolation(Uri Simulator, ContractViolation Violation);

    public static void Checked(string provider) => CheckedCounts.AddOrUpdate(provider, 1, (_, count) => count + 1);

    public static void Record(Uri simulator, IEnumerable<ContractViolation> violations)
    {
        foreach (var violation in violations)
        {
            Recorded.Enqueue(new RecordedViolation(simulator, violation));
        }
    }

    /// <summary>The violations recorded so far (those taken back excluded).</summary>
    public static IReadOnlyList<RecordedViolation> All() => [.. Recorded];

    /// <summary>How many requests each provider's contract checked in this process.</summary>
    public static IReadOnlyDictionary<string, int> CheckedByProvider() => new Dictionary<string, int>(CheckedCounts, StringComparer.Ordinal);

    /// <summary>Removes and returns the violations seen by the simulator at <paramref name="simulator"/>: for a test that sent them on purpose.</summary>
    public static IReadOnlyList<ContractViolation> TakeFrom(Uri simulator)
    {
        lock (Recorded)
        {
            var all = new List<RecordedViolation>();
            while (Recorded.TryDequeue(out var item))
            {
                all.Add(item);
            }

            foreach (var item in all.Where(v => v.Simulator != simulator))
            {
                Recorded.Enqueue(item);
            }

            return [.. all.Where(v => v.Simulator == simulator).Select(v => v.Violation)];
        }
    }
}
