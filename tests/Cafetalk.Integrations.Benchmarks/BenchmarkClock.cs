namespace Cafetalk.Integrations.Benchmarks;

/// <summary>A clock stopped at one instant, so every iteration measures the same path (nothing expires mid-run).</summary>
public sealed class BenchmarkClock(DateTimeOffset now) : TimeProvider
{
    /// <summary>The instant every benchmark runs at; the sample events in ../shared/samples are from this week.</summary>
    public static readonly DateTimeOffset Now = new(2027, 2, 20, 8, 15, 3, TimeSpan.Zero);

    public static BenchmarkClock Stopped { get; } = new(Now);

    public override DateTimeOffset GetUtcNow() => now;
}
