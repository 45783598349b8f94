namespace Cafetalk.Integrations.Bookings;

/// <summary>
/// The one converge loop every provider's converger plugs into: read the booking's snapshot, plan (what the provider
/// must be told, or nothing), claim the row when the plan needs it (ETag-guarded: a lost race reads again), act (the
/// provider call, inside the provider's disclosure scope), record the provider's facts. Lost races and acts that
/// change what the plan rests on go round again under <see cref="BookingConflictRetry"/>. The plan, act and facts
/// stay in the provider's folder (<see cref="IProviderConverger{TPlan, TResult}"/>). The site notifications the facts
/// imply are marked in the same write and sent once the run settles, with any of the converger's markers a stopped
/// worker left on the row (<see cref="SiteOutbox"/>). A converger that asks another once it is done hands the clearing
/// of what it sent on (<see cref="ConvergeHandOff{TResult}"/>): the next one empties the markers in its own fact write.
/// </summary>
public sealed class ConvergeLoop(BookingRows rows)
{
    public Task<ConvergeRun<TResult>> RunAsync<TPlan, TResult>(
        string lecturerId, string bookingId, IProviderConverger<TPlan, TResult> converger, CancellationToken cancellationToken = default) =>
        RunAsync(lecturerId, bookingId, null, converger, null, cancellationToken);

    /// <summary>A run that takes over or hands on the clearing of outbox markers (<paramref name="handOff"/>).</summary>
    public Task<ConvergeRun<TResult>> RunAsync<TPlan, TResult>(
        string lecturerId, string bookingId, IProviderConverger<TPlan, TResult> converger, ConvergeHandOff<TResult>? handOff, CancellationToken cancellationToken = default) =>
        RunAsync(lecturerId, bookingId, null, converger, handOff, cancellationToken);

    /// <summary>Starts from <paramref name="first"/>, a read the caller already made (found by a query), and reads by key after.</summary>
    public Task<ConvergeRun<TResult>> RunAsync<TPlan, TResult>(
        BookingSnapshot first, IProviderConverger<TPlan, TResult> converger, CancellationToken cancellationToken = default) =>
        RunAsync(first.LecturerId, first.BookingId, first, converger, null, cancellationToken);

    private async Task<ConvergeRun<TResult>> RunAsync<TPlan, TResult>(
        string lecturerId, string bookingId, BookingSnapshot? first, IProviderConverger<TPlan, TResult> converger, ConvergeHandOff<TResult>? handOff, CancellationToken cancellationToken)
    {
        ConvergeRun<TResult>? acted = null;
        IReadOnlyList<SiteOutboxMarker> owed = [];
        var actAsksNext = false;
        var run = await BookingConflictRetry.RunAsync(bookingId, async attempt =>
        {
            var booking = attempt == 1 && first is not null ? first : await rows.ReadAsync(lecturerId, bookingId, cancellationToken);
            if (booking is null)
            {
                owed = [];
                return (true, new ConvergeRun<TResult>(converger.NoBooking, Acted: false, Booking: null));
            }

            owed = [.. SiteOutbox.Pending(booking.Row, converger.Notifies).Where(m => handOff?.Repairs(m) != false)];

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

            ConvergeAct<TResult> act;
            try
            {
                act = await converger.ActAsync(booking, plan.Plan!, cancellationToken);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested && SiteOutbox.SentElsewhere(booking.Row, handOff?.SentBefore) is { Count: > 0 } sent)
            {
                // The provider failed, so no fact write will carry them: the markers the previous converger sent go now, or its
                // notification would be sent again by the nightly sweep while this message waits for its retry.
                await rows.Outbox.ClearAsync(booking.LecturerId, booking.BookingId, booking.Row.ETag, sent, cancellationToken);
                throw;
            }

            var rowMoved = false;
            if (act.Facts is { } facts)
            {
                // Markers the previous converger sent ride this write, unless this write marks a newer one of their type.
                var clears = SiteOutbox.SentElsewhere(booking.Row, handOff?.SentBefore).Where(m => act.Notify.All(n => n.Type != m.Type)).ToList();
                rowMoved = !await rows.WriteFactsAsync(booking, SiteOutbox.Mark(facts, act.Notify), clears, cancellationToken);
                // The snapshot now shows what was written (a join link to send), and owes the new markers over older ones of their type.
                Overlay(booking.Row, rowMoved ? facts : SiteOutbox.Cleared(facts, clears));
                owed = [.. owed.Where(m => act.Notify.All(n => n.Type != m.Type)), .. act.Notify];
            }

            actAsksNext |= act.AsksNext;

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

        // After the run settled, so a send that throws leaves the facts recorded and the markers for the next run.
        var asksNext = handOff is not null && (actAsksNext || handOff.AsksNext(run));
        if (run.Booking is { } settledOn)
        {
            if (owed.Count > 0 && asksNext)
            {
                await rows.Outbox.SendOnlyAsync(settledOn.Row, owed, cancellationToken);
            }
            else if (owed.Count > 0)
            {
                await rows.Outbox.SendAsync(settledOn.Row, settledOn.Row.ETag, owed, cancellationToken);
            }

            // Sent by the previous converger and not emptied by a fact write of this run (it wrote none, or the row moved).
            if (SiteOutbox.SentElsewhere(settledOn.Row, handOff?.SentBefore) is { Count: > 0 } left)
            {
                await rows.Outbox.ClearAsync(settledOn.LecturerId, settledOn.BookingId, settledOn.Row.ETag, left, cancellationToken);
            }
        }

        if (asksNext)
        {
            await handOff!.AskNextAsync(run, run.Booking is null ? [] : [.. owed.Select(SiteOutbox.Digest)], cancellationToken);
        }

        return run;
    }

    private static void Overlay(Azure.Data.Tables.TableEntity row, Azure.Data.Tables.TableEntity facts)
    {
        foreach (var (key, value) in facts.Where(c => c.Key is not ("PartitionKey" or "RowKey" or "odata.etag" or "Timestamp")))
        {
            row[key] = value;
        }
    }
}

/// <summary>
/// How one run passes the outbox between convergers that run one after the other. <see cref="SentBefore"/>: the markers
/// the previous converger sent (<see cref="SiteOutbox.Digest"/>), emptied by this run's fact write, or by a write of
/// their own when the run writes none. <see cref="AsksNext"/>: whether this run asks another converger once settled;
/// then its markers are sent and left on the row, and <see cref="AskNextAsync"/> names them in that converger's message.
/// </summary>
public sealed class ConvergeHandOff<TResult>
{
    public IReadOnlyCollection<string>? SentBefore { get; init; }

    /// <summary>
    /// The run's correlation id, when its markers are handed on. A marker of this converger's types that another run wrote
    /// may be sent and waiting for the next converger's clear, so this run leaves it: its own message's retry (the same
    /// correlation id) or the nightly sweep repairs a stopped worker's. Null: every marker found is sent again.
    /// </summary>
    public string? CorrelationId { get; init; }

    public Func<ConvergeRun<TResult>, bool> AsksNext { get; init; } = _ => false;

    /// <summary>Whether this run sends <paramref name="marker"/>, found on the row as it read it (see <see cref="CorrelationId"/>).</summary>
    public bool Repairs(SiteOutboxMarker marker) =>
        CorrelationId is null || Equals(marker.Data.GetValueOrDefault(SiteNotificationTypes.CorrelationField), CorrelationId);

    /// <summary>Asks the next converger, naming the markers this run sent (empty when it sent none).</summary>
    public Func<ConvergeRun<TResult>, IReadOnlyList<string>, CancellationToken, Task> AskNextAsync { get; init; } = (_, _, _) => Task.CompletedTask;
}
