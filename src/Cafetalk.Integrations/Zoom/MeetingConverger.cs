using Cafetalk.Integrations.Disclosure;
using System.Globalization;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Zoom;

/// <summary>What one converge did to a booking's meeting.</summary>
public enum MeetingConvergence
{
    /// <summary>No <c>Bookings</c> row: nothing to converge.</summary>
    NoBooking,
    /// <summary>Zoom already matched; no call was made.</summary>
    UpToDate,
    Created,
    Updated,
    Deleted,
    /// <summary>Another converger holds the booking while it creates; try again at <see cref="MeetingConvergeResult.RetryAtUtc"/>.</summary>
    Deferred,
}

/// <summary>The outcome of one converge, with the meeting id when there is one.</summary>
public sealed record MeetingConvergeResult(MeetingConvergence Outcome, string? MeetingId = null, DateTimeOffset? RetryAtUtc = null);

/// <summary>
/// Makes a booking's Zoom meeting match its desired state: created once, patched when the time changes, deleted
/// when the booking is cancelled. What was done is written to the booking's <c>Zoom*</c> columns against the row's
/// ETag. Zoom has no idempotency key, so before a create the row takes a lease; a lease found expired means a
/// converger died mid-create, and the meeting is looked up by its opaque <c>agenda</c> before any second create.
/// </summary>
public sealed class MeetingConverger(
    StorageAccount storage,
    BookingRows rows,
    ZoomClient zoom,
    ZoomHostDirectory hosts,
    ZoomHostPlacer placer,
    ZoomDailyLimit dailyLimit,
    ZoomBookingReference references,
    ZoomDisclosures disclosures,
    IOptions<ZoomOptions> options,
    TimeProvider time,
    ConvergeMetrics metrics,
    ILogger<MeetingConverger> logger)
{
    private readonly ConvergeLoop _loop = new(rows);

    public Task<MeetingConvergeResult> ConvergeAsync(string lecturerId, string bookingId, string? correlationId = null, CancellationToken cancellationToken = default) =>
        ConvergeAsync(new ConvergeRequest(lecturerId, bookingId), correlationId, cancellationToken);

    /// <summary>
    /// Converges <paramref name="request"/>'s booking, then asks the calendar converger when the request says so
    /// (<see cref="ConvergeRequest.Then"/>) or a new join link was recorded, naming the notifications it sent so that
    /// converger's fact write clears their outbox markers.
    /// </summary>
    public async Task<MeetingConvergeResult> ConvergeAsync(ConvergeRequest request, string? correlationId = null, CancellationToken cancellationToken = default)
    {
        var (lecturerId, bookingId) = (request.LecturerId, request.BookingId);
        correlationId ??= Guid.NewGuid().ToString("N");
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["CorrelationId"] = correlationId, ["BookingId"] = bookingId });
        var handOff = new ConvergeHandOff<MeetingConvergeResult>
        {
            CorrelationId = correlationId,
            AsksNext = run => run.Booking is not null && request.AsksAfter(QueueNames.CalendarConverge),
            AskNextAsync = (_, sent, token) => AskCalendarAsync(lecturerId, bookingId, sent, token),
        };
        var run = await _loop.RunAsync(lecturerId, bookingId, new MeetingConvergeRun(this, correlationId), handOff, cancellationToken);
        if (run.Acted)
        {
            metrics.Converged(DisclosurePolicy.Zoom.Key, run.Result.Outcome.ToString(), run.Booking!.Row);
        }

        return run.Result;
    }

    /// <summary>What Zoom must be told on one read of the row; the host is resolved before a create's lease names it.</summary>
    private sealed record MeetingPlan(MeetingStep Step, string? HostId = null, int Lane = -1);

    private enum MeetingStep
    {
        RecoverInterruptedCreate,
        Create,
        Update,
        Delete,
    }

    /// <summary>One converge of one booking's meeting, plugged into <see cref="ConvergeLoop"/>.</summary>
    private sealed class MeetingConvergeRun(MeetingConverger converger, string correlationId) : IProviderConverger<MeetingPlan, MeetingConvergeResult>
    {
        public MeetingConvergeResult NoBooking { get; } = new(MeetingConvergence.NoBooking);

        private MeetingStep? _acted;

        // A create or update reads a newer event that landed meanwhile (its own converge would wait for the create's
        // lease); a delete settles: a cancel is where the booking ends, and any later event asks again on its own.
        public bool ReadsAgainWhenRowMoved => _acted is not MeetingStep.Delete;

        public IReadOnlyList<SiteNotificationType> Notifies { get; } = [SiteNotificationTypes.MeetingReady, SiteNotificationTypes.MeetingRemoved];

        public Task<ConvergePlan<MeetingPlan, MeetingConvergeResult>> PlanAsync(BookingSnapshot booking, CancellationToken cancellationToken) =>
            converger.PlanAsync(booking, correlationId, cancellationToken);

        public Task<ConvergeAct<MeetingConvergeResult>> ActAsync(BookingSnapshot booking, MeetingPlan plan, CancellationToken cancellationToken)
        {
            var p = new Pending(booking, ZoomMeetingColumns.Read(booking.Row), correlationId);
            _acted = plan.Step;
            return plan.Step switch
            {
                MeetingStep.RecoverInterruptedCreate => converger.RecoverInterruptedCreateAsync(p, cancellationToken),
                MeetingStep.Create => converger.CreateAsync(p, plan.HostId!, plan.Lane, cancellationToken),
                MeetingStep.Update => converger.UpdateAsync(p, p.Facts.MeetingId!, cancellationToken),
                _ => converger.DeleteAsync(p, p.Facts.MeetingId!, cancellationToken),
            };
        }
    }

    /// <summary>One decision on one read of the row: what Zoom must be told, or nothing.</summary>
    private async Task<ConvergePlan<MeetingPlan, MeetingConvergeResult>> PlanAsync(BookingSnapshot booking, string correlationId, CancellationToken cancellationToken)
    {
        var facts = ZoomMeetingColumns.Read(booking.Row);
        var desired = booking.Desired;
        var now = time.GetUtcNow();
        if (facts.CreateLeaseUntilUtc is { } lease && facts.MeetingId is null)
        {
            return lease > now
                ? Nothing(new MeetingConvergeResult(MeetingConvergence.Deferred, RetryAtUtc: lease))
                : Act(new MeetingPlan(MeetingStep.RecoverInterruptedCreate));
        }

        switch (desired.Status)
        {
            case BookingStatus.Cancelled when facts.HasLiveMeeting:
                return Act(new MeetingPlan(MeetingStep.Delete));
            case BookingStatus.Confirmed when facts.HasLiveMeeting && facts.Matches(desired):
                return Nothing(new MeetingConvergeResult(MeetingConvergence.UpToDate, facts.MeetingId));
            case BookingStatus.Confirmed when facts.HasLiveMeeting:
                return Act(new MeetingPlan(MeetingStep.Update));
            case BookingStatus.Confirmed:
                // Zoom has no idempotency key: the create's lease is the claim, so one converger creates.
                var (hostId, lane, placement) = await HostForCreateAsync(desired, facts, cancellationToken);
                if (placement == ZoomHostPlacementStatus.NoFreeHost)
                {
                    var retryAt = await placer.NoFreeHostAsync(desired, created: true, correlationId, cancellationToken);
                    return Nothing(new MeetingConvergeResult(MeetingConvergence.Deferred, RetryAtUtc: retryAt));
                }

                return Act(new MeetingPlan(MeetingStep.Create, hostId, lane), ZoomMeetingColumns.Lease(booking.Row, hostId!, time.GetUtcNow() + options.Value.CreateLease, lane));
            default:
                // Cancelled with nothing created, or completed: Zoom already looks right.
                return Nothing(new MeetingConvergeResult(MeetingConvergence.UpToDate, facts.HasLiveMeeting ? facts.MeetingId : null));
        }
    }

    /// <summary>
    /// The lecturer's own Zoom user when they have one; else a pool host with a free lane (kept from the row when it
    /// still fits); else, with no pool, the default host. The lane is -1 off the pool.
    /// </summary>
    private async Task<(string? HostId, int Lane, ZoomHostPlacementStatus Placement)> HostForCreateAsync(DesiredState desired, ZoomMeetingFacts facts, CancellationToken cancellationToken)
    {
        if (await hosts.FindAssignedAsync(desired.LecturerId, cancellationToken) is { } own)
        {
            return (own, -1, ZoomHostPlacementStatus.NoPool);
        }

        var placed = await placer.PlaceAsync(desired.BookingId, desired.StartsAtUtc, desired.DurationMinutes,
            facts.OnPoolHost ? facts.HostId : null, facts.OnPoolHost ? facts.HostLane : null, cancellationToken);
        return placed.Status switch
        {
            ZoomHostPlacementStatus.Placed => (placed.HostId, placed.Lane, placed.Status),
            ZoomHostPlacementStatus.NoPool => (options.Value.DefaultHostUserId, -1, placed.Status),
            _ => (null, -1, placed.Status),
        };
    }

    private static ConvergePlan<MeetingPlan, MeetingConvergeResult> Nothing(MeetingConvergeResult result) => ConvergePlan.Nothing<MeetingPlan, MeetingConvergeResult>(result);

    private static ConvergePlan<MeetingPlan, MeetingConvergeResult> Act(MeetingPlan plan, TableEntity? claim = null) => ConvergePlan.Act<MeetingPlan, MeetingConvergeResult>(plan, claim);

    private async Task<ConvergeAct<MeetingConvergeResult>> CreateAsync(Pending p, string hostId, int lane, CancellationToken cancellationToken)
    {
        var request = ZoomMeetingPayload.Build(p.Desired, references.For(p.Desired.BookingId));
        var disclosure = Disclosure(p, ZoomOperation.CreateMeeting, hostId, null, ZoomMeetingPayload.FieldNames);
        ZoomMeeting created;
        try
        {
            await dailyLimit.ReserveAsync(hostId, cancellationToken);
            created = await DiscloseAsync(disclosure, context => zoom.CreateMeetingAsync(hostId, request, context, cancellationToken), m => Id(m.Id), cancellationToken);
        }
        catch (ZoomDailyLimitReachedException) when (lane >= 0)
        {
            // Another app spent this pool host's day: with it marked spent, placement chooses another host at once.
            await dailyLimit.MarkExhaustedAsync(hostId, cancellationToken);
            await placer.ReleaseAsync(hostId, lane, p.Desired.BookingId, p.Desired.StartsAtUtc, p.Desired.DurationMinutes, cancellationToken: cancellationToken);
            return new ConvergeAct<MeetingConvergeResult>(new MeetingConvergeResult(MeetingConvergence.UpToDate), ZoomMeetingColumns.Released(p.Row)) { ReadAgain = true, ChangedProvider = false };
        }
        catch (ZoomDailyLimitReachedException)
        {
            // Nothing was created, so the lease is released rather than left to look like a crash.
            await rows.WriteFactsAsync(p.Snapshot, ZoomMeetingColumns.Released(p.Row), cancellationToken: cancellationToken);
            await dailyLimit.MarkExhaustedAsync(hostId, cancellationToken);
            throw;
        }

        var meetingId = Id(created.Id);
        logger.LogInformation("Zoom meeting {MeetingId} created on host {HostId} for booking {BookingId} v{Version}", meetingId, hostId, p.Desired.BookingId, p.Desired.Version);
        return new ConvergeAct<MeetingConvergeResult>(new MeetingConvergeResult(MeetingConvergence.Created, meetingId),
            ZoomMeetingColumns.Live(p.Row, meetingId, hostId, p.Desired, time.GetUtcNow(), created.JoinUrl, lane))
        {
            AsksNext = true,
            Notify = [MeetingReady(p)],
        };
    }

    private async Task<ConvergeAct<MeetingConvergeResult>> UpdateAsync(Pending p, string meetingId, CancellationToken cancellationToken)
    {
        var hostId = p.Facts.HostId ?? await hosts.ResolveAsync(p.Desired.LecturerId, cancellationToken);
        int? lane = null;
        if (p.Facts.OnPoolHost)
        {
            // A reschedule on a pool host: the new time must fit a lane, on this host if it can, else the meeting moves.
            var placed = await placer.PlaceAsync(p.Desired.BookingId, p.Desired.StartsAtUtc, p.Desired.DurationMinutes, hostId, p.Facts.HostLane, cancellationToken);
            switch (placed.Status)
            {
                case ZoomHostPlacementStatus.NoFreeHost:
                    var retryAt = await placer.NoFreeHostAsync(p.Desired, created: false, p.CorrelationId, cancellationToken);
                    return new ConvergeAct<MeetingConvergeResult>(new MeetingConvergeResult(MeetingConvergence.Deferred, meetingId, retryAt)) { ChangedProvider = false };
                case ZoomHostPlacementStatus.Placed when placed.HostId != hostId:
                    return await MoveAsync(p, meetingId, placed.HostId!, cancellationToken);
                case ZoomHostPlacementStatus.Placed:
                    lane = placed.Lane;
                    break;
            }
        }

        var request = ZoomMeetingPayload.Build(p.Desired, references.For(p.Desired.BookingId));
        var disclosure = Disclosure(p, ZoomOperation.UpdateMeeting, hostId, meetingId, ZoomMeetingPayload.FieldNames);
        bool found;
        try
        {
            await dailyLimit.ReserveAsync(hostId, cancellationToken);
            found = await DiscloseAsync(disclosure, context => zoom.UpdateMeetingAsync(hostId, long.Parse(meetingId, CultureInfo.InvariantCulture), request, context, cancellationToken), _ => meetingId, cancellationToken);
        }
        catch (ZoomDailyLimitReachedException)
        {
            // Other apps share the host's allowance, so Zoom's word overrides our count for the rest of the day.
            await dailyLimit.MarkExhaustedAsync(hostId, cancellationToken);
            throw;
        }

        if (!found)
        {
            // Someone deleted it in Zoom: forget it, and the next pass creates a new one.
            logger.LogWarning("Zoom meeting {MeetingId} of booking {BookingId} is gone from Zoom; a new one will be created", meetingId, p.Desired.BookingId);
            return new ConvergeAct<MeetingConvergeResult>(new MeetingConvergeResult(MeetingConvergence.UpToDate), ZoomMeetingColumns.Forgotten(p.Row)) { ReadAgain = true };
        }

        if (lane is { } newLane)
        {
            await ReleaseOldSlotsAsync(p, keepLane: newLane, cancellationToken);
        }

        logger.LogInformation("Zoom meeting {MeetingId} updated for booking {BookingId} v{Version}", meetingId, p.Desired.BookingId, p.Desired.Version);
        return new ConvergeAct<MeetingConvergeResult>(new MeetingConvergeResult(MeetingConvergence.Updated, meetingId),
            ZoomMeetingColumns.Live(p.Row, meetingId, hostId, p.Desired, time.GetUtcNow(), lane: lane))
        {
            Notify = [MeetingReady(p)],
        };
    }

    /// <summary>
    /// The new time overlaps another lesson on the meeting's pool host and Zoom's update cannot change a meeting's host:
    /// delete it here, forget it, and the loop's next pass creates it on the host whose slots were just reserved (a new
    /// join link, which reaches the calendar and the site like any new meeting's).
    /// </summary>
    private async Task<ConvergeAct<MeetingConvergeResult>> MoveAsync(Pending p, string meetingId, string newHostId, CancellationToken cancellationToken)
    {
        var oldHostId = p.Facts.HostId!;
        var disclosure = Disclosure(p, ZoomOperation.DeleteMeeting, oldHostId, meetingId, []);
        await DiscloseAsync(disclosure, context => zoom.DeleteMeetingAsync(long.Parse(meetingId, CultureInfo.InvariantCulture), context, cancellationToken), _ => meetingId, cancellationToken);
        await ReleaseOldSlotsAsync(p, keepLane: null, cancellationToken);
        logger.LogInformation("Zoom meeting {MeetingId} of rescheduled booking {BookingId} deleted on host {HostId}: the new time overlaps there; moving to host {NewHostId}",
            meetingId, p.Desired.BookingId, oldHostId, newHostId);
        return new ConvergeAct<MeetingConvergeResult>(new MeetingConvergeResult(MeetingConvergence.Deleted, meetingId), ZoomMeetingColumns.Moved(p.Row)) { ReadAgain = true };
    }

    /// <summary>Frees the slots the meeting held for the time Zoom had, except those its new time uses on <paramref name="keepLane"/>.</summary>
    private async Task ReleaseOldSlotsAsync(Pending p, int? keepLane, CancellationToken cancellationToken)
    {
        if (p.Facts is not { OnPoolHost: true, HostId: { } hostId, HostLane: { } oldLane, StartsAtUtc: { } oldStart, DurationMinutes: { } oldDuration })
        {
            return;
        }

        var keep = keepLane == oldLane ? placer.Slots(p.Desired.StartsAtUtc, p.Desired.DurationMinutes).ToHashSet(StringComparer.Ordinal) : null;
        await placer.ReleaseAsync(hostId, oldLane, p.Desired.BookingId, oldStart, oldDuration, keep, cancellationToken);
    }

    private async Task<ConvergeAct<MeetingConvergeResult>> DeleteAsync(Pending p, string meetingId, CancellationToken cancellationToken)
    {
        var hostId = p.Facts.HostId ?? options.Value.DefaultHostUserId;
        var disclosure = Disclosure(p, ZoomOperation.DeleteMeeting, hostId, meetingId, []);
        var existed = await DiscloseAsync(disclosure, context => zoom.DeleteMeetingAsync(long.Parse(meetingId, CultureInfo.InvariantCulture), context, cancellationToken), _ => meetingId, cancellationToken);
        await ReleaseOldSlotsAsync(p, keepLane: null, cancellationToken);
        logger.LogInformation("Zoom meeting {MeetingId} of cancelled booking {BookingId} deleted (it {Existed} in Zoom)", meetingId, p.Desired.BookingId, existed ? "existed" : "was already gone");
        return new ConvergeAct<MeetingConvergeResult>(new MeetingConvergeResult(MeetingConvergence.Deleted, meetingId), ZoomMeetingColumns.DeletedMeeting(p.Row, time.GetUtcNow()))
        {
            Notify = [SiteOutboxMarker.MeetingRemoved(p.Desired.Version, "cancelled", p.CorrelationId)],
        };
    }

    /// <summary>A lease expired with no meeting id: the create may have reached Zoom. Adopt the meeting if it did.</summary>
    private async Task<ConvergeAct<MeetingConvergeResult>> RecoverInterruptedCreateAsync(Pending p, CancellationToken cancellationToken)
    {
        var hostId = p.Facts.HostId ?? await hosts.ResolveAsync(p.Desired.LecturerId, cancellationToken);
        var reference = references.For(p.Desired.BookingId);
        var lookup = Disclosure(p, ZoomOperation.FindMeeting, hostId, null, []);
        var found = await DiscloseAsync(lookup, async context =>
        {
            await foreach (var meeting in zoom.ListUpcomingMeetingsAsync(hostId, context, cancellationToken))
            {
                if (meeting.Agenda == reference)
                {
                    return meeting;
                }
            }

            return null;
        }, m => m is null ? null : Id(m.Id), cancellationToken);

        // Either way the plan rested on a lease that is now gone: the loop reads the row again.
        var recovered = new MeetingConvergeResult(MeetingConvergence.UpToDate);
        if (found is null)
        {
            logger.LogWarning("Interrupted create for booking {BookingId}: no meeting with its reference on host {HostId}; creating again", p.Desired.BookingId, hostId);
            return new ConvergeAct<MeetingConvergeResult>(recovered, ZoomMeetingColumns.Released(p.Row)) { ReadAgain = true };
        }

        var meetingId = Id(found.Id);
        logger.LogWarning("Interrupted create for booking {BookingId}: adopted Zoom meeting {MeetingId} found by its reference", p.Desired.BookingId, meetingId);
        return new ConvergeAct<MeetingConvergeResult>(recovered, ZoomMeetingColumns.Adopted(p.Row, meetingId, hostId, found, time.GetUtcNow()))
        {
            ReadAgain = true,
            AsksNext = true,
            Notify = [MeetingReady(p)],
        };
    }

    /// <summary>The site's copy of the join link: the outbox reads the link from the row when it sends, never from the marker.</summary>
    private static SiteOutboxMarker MeetingReady(Pending p) => SiteOutboxMarker.MeetingReady(p.Desired.Version, p.Desired.StartsAtUtc, p.CorrelationId);

    /// <summary>
    /// Asks the calendar converger to look at the booking: the meeting's facts are recorded (its event shows the join link),
    /// and <paramref name="sentMarkers"/> are the notifications sent since, whose outbox markers its fact write clears.
    /// </summary>
    public async Task AskCalendarAsync(string lecturerId, string bookingId, IReadOnlyList<string> sentMarkers, CancellationToken cancellationToken = default) =>
        await storage.Queue(QueueNames.CalendarConverge).SendMessageAsync(
            new ConvergeRequest(lecturerId, bookingId) { SentMarkers = sentMarkers.Count > 0 ? sentMarkers : null }.ToJson(), cancellationToken);

    private Task<T> DiscloseAsync<T>(ZoomDisclosure disclosure, Func<DisclosureContext, Task<T>> call, Func<T, string?> meetingIdOf, CancellationToken cancellationToken) =>
        disclosures.DiscloseAsync(disclosure, call, meetingIdOf, cancellationToken);

    private static ZoomDisclosure Disclosure(Pending p, ZoomOperation operation, string hostId, string? meetingId, IReadOnlyList<string> fields) =>
        new(operation, p.Desired.BookingId, p.Desired.LecturerId, p.Desired.StudentId, hostId, meetingId, fields, p.CorrelationId);

    private static string Id(long meetingId) => meetingId.ToString(CultureInfo.InvariantCulture);

    private sealed record Pending(BookingSnapshot Snapshot, ZoomMeetingFacts Facts, string CorrelationId)
    {
        public TableEntity Row => Snapshot.Row;

        public DesiredState Desired => Snapshot.Desired;
    }
}
