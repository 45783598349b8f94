using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace Cafetalk.Integrations.Fuzzing;

/// <summary>
/// The seed and the number of inputs per entry point: fixed by default so CI is reproducible, changed with
/// <c>FUZZ_SEED</c> and <c>FUZZ_COUNT</c>. Every failure message names both, so a failing run can be repeated.
/// </summary>
public static class FuzzSettings
{
    public const ulong DefaultSeed = 20260611;
    public const int DefaultCount = 10_000;

    public static ulong Seed { get; } = ulong.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), NumberStyles.None, CultureInfo.InvariantCulture, out var seed) ? seed : DefaultSeed;

    public static int Count { get; } = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_COUNT"), NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0 ? count : DefaultCount;

    /// <summary>What to set to repeat this run: goes into every failure message.</summary>
    public static string Replay => $"FUZZ_SEED={Seed} FUZZ_COUNT={Count}";

    /// <summary>
    /// <see cref="Count"/> inputs (or <paramref name="count"/>) from <paramref name="generator"/>. Each entry point draws
    /// from its own stream, derived from the seed and its name, so adding an entry point does not change the others' inputs.
    /// </summary>
    public static IReadOnlyList<T> Inputs<T>(string entryPoint, Gen<T> generator, int? count = null, int size = 60) =>
        generator.Sample(count ?? Count, new Rnd(Seed ^ StableHash(entryPoint)), size);

    /// <summary>An input as it may appear in a failure message: escaped, and cut after 300 characters.</summary>
    public static string Show(string? input)
    {
        if (input is null)
        {
            return "(null)";
        }

        var text = new StringBuilder();
        foreach (var c in input.Length > 300 ? input[..300] : input)
        {
            text.Append(c is >= ' ' and < '\u007f' ? c.ToString() : $"\\u{(int)c:x4}");
        }

        return input.Length > 300 ? $"{text}… ({input.Length} chars)" : text.ToString();
    }

    /// <summary>Fails with every problem found (the first 20 shown), the replay settings and how many inputs ran.</summary>
    public static void AssertNone(string entryPoint, IReadOnlyCollection<string> problems, int inputs)
    {
        if (problems.Count > 0)
        {
            throw new Xunit.Sdk.XunitException(
                $"{entryPoint}: {problems.Count} of {inputs} fuzzed inputs failed ({Replay}):{Environment.NewLine}" +
                string.Join(Environment.NewLine, problems.Take(20).Select(p => "  - " + p)));
        }
    }

    private static ulong StableHash(string text)
    {
        // FNV-1a: string.GetHashCode is randomised per process.
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }
}
