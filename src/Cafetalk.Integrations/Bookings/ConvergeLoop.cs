namespace Cafetalk.Integrations.Bookings;

/// <summary>
/// The one converge loop every provider's converger plugs into: read the booking's snapshot, plan (what the provider
/// must be told, or nothing), claim the row when the plan needs it (ETag-guarded: a lost race reads again), act (the
/// provider call, inside the provider's disclosure scope), record the provider's facts. Lost races and acts that
/// change what the plan rests on go round again under <see cref="BookingConflictRetry"/>. The plan, act and facts
/// stay in the provider's folder (<see cref="IProviderConverger{TPlan, TResult}"/>).
/// </summary>
public sealed class ConvergeLoop(BookingRows rows)
{
    public Task<ConvergeRun<TResult>> RunAsync<TPlan, TResult>(
        string lecturerId, string bookingId, IProviderConverger<TPlan, TResult> converger, CancellationToken cancellationToken = default) =>
        RunAsync(lecturerId, bookingId, null, converger, cancellationToken);

    /// <summary>Starts from <paramref name="first"/>, a read the caller already made (found by a query), and reads by key after.</summary>
    public Task<ConvergeRun<TResult>> RunAsync<TPlan, TResult>(
        BookingSnapshot first, IProviderConverger<TPlan, TResult> converger, CancellationToken cancellationToken = default) =>
        RunAsync(first.LecturerId, first.BookingId, first, converger, cancellationToken);

    private async Task<ConvergeRun<TResult>> RunAsync<TPlan, TResult>(
        string lecturerId, string bookingId, BookingSnapshot? first, IProviderConverger<TPlan, TResult> converger, CancellationToken cancellationToken)
    {
        ConvergeRun<TResult>? acted = null;
        return await BookingConflictRetry.RunAsync(bookingId, async attempt =>
        {
            var booking = attempt == 1 && first is not null ? first : await rows.ReadAsync(lecturerId, bookingId, cancellationToken);
            if (booking is null)
            {
                return (true, new ConvergeRun<TResult>(converger.NoBooking, Acted: false, Booking: null));
            }

            var plan = await converger.PlanAsync(booking, cancellationToken);
            if (!plan.HasAct)
            {
                // A pass that finds nothing left to do after an earlier pass acted reports what that pass did.
                return (true, acted is null ? new ConvergeRun<TResult>(plan.Result!, Acted: false, booking) : acted with { Booking = booking });
            }

            if (plan.Claim is { } claim && !await rows.TryClaimAsync(booking, claim, cancellationToken))
            {
                return (false, null!);
            }

            var act = await converger.ActAsync(booking, plan.Plan!, cancellationToken);
            var rowMoved = act.Facts is { } facts && !await rows.WriteFactsAsync(booking, facts, cancellationToken);
            if (act.AfterRecorded is { } afterRecorded)
            {
                await afterRecorded(cancellationToken);
            }

            if (act.ReadAgain)
            {
                return (false, null!);
            }

            if (act.ChangedProvider)
            {
                acted = new ConvergeRun<TResult>(act.Result, Acted: true, booking);
            }

            // A newer event may have landed while the provider was called: a converger that asks reads it before it settles.
            var settled = !(rowMoved && converger.ReadsAgainWhenRowMoved);
            return (settled, acted ?? new ConvergeRun<TResult>(act.Result, Acted: false, booking));
        }, cancellationToken);
    }
}
