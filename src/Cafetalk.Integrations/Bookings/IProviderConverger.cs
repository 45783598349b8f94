namespace Cafetalk.Integrations.Bookings;

/// <summary>
/// One provider's part in <see cref="ConvergeLoop"/>, for one run (so it may carry that run's correlation id and state).
/// <typeparamref name="TPlan"/> is what the provider must be told; <typeparamref name="TResult"/> what the run answers.
/// </summary>
public interface IProviderConverger<TPlan, TResult>
{
    /// <summary>The answer when the booking has no row.</summary>
    TResult NoBooking { get; }

    /// <summary>Whether a fact write that found the row changed since it was read sends the loop round again before it settles.</summary>
    bool ReadsAgainWhenRowMoved { get; }

    /// <summary>The outbox types this converger's facts imply: a marker of one left on the row (a worker stopped before it sent) is sent by its next run.</summary>
    IReadOnlyList<SiteNotificationType> Notifies => [];

    /// <summary>What this read of the row asks of the provider, with the claim it needs; or nothing, with the answer.</summary>
    Task<ConvergePlan<TPlan, TResult>> PlanAsync(BookingSnapshot booking, CancellationToken cancellationToken);

    /// <summary>The provider call (its ledger rows around it); returns the facts to record. A throw records nothing.</summary>
    Task<ConvergeAct<TResult>> ActAsync(BookingSnapshot booking, TPlan plan, CancellationToken cancellationToken);
}
