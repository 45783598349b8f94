using Azure.Data.Tables;

namespace Cafetalk.Integrations.Bookings;

/// <summary>A plan: an act (with the claim columns it must win first, when any), or nothing and the answer.</summary>
public sealed class ConvergePlan<TPlan, TResult>
{
    internal ConvergePlan(bool hasAct, TPlan? plan, TableEntity? claim, TResult? result)
    {
        HasAct = hasAct;
        Plan = plan;
        Claim = claim;
        Result = result;
    }

    public bool HasAct { get; }

    public TPlan? Plan { get; }

    /// <summary>Columns written against the snapshot's ETag before the act; a lost write reads the row again.</summary>
    public TableEntity? Claim { get; }

    public TResult? Result { get; }
}

/// <summary>Makes the two kinds of <see cref="ConvergePlan{TPlan, TResult}"/>.</summary>
public static class ConvergePlan
{
    /// <summary>The provider already matches, or must not be called now: no claim, no call, no write.</summary>
    public static ConvergePlan<TPlan, TResult> Nothing<TPlan, TResult>(TResult result) => new(false, default, null, result);

    /// <summary>The provider must be told <paramref name="plan"/>, once <paramref name="claim"/> (when given) is won.</summary>
    public static ConvergePlan<TPlan, TResult> Act<TPlan, TResult>(TPlan plan, TableEntity? claim = null) => new(true, plan, claim, default);
}
