using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.GoogleCalendar.Api;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>What one converge did to a booking's calendar event.</summary>
public enum EventConvergence
{
    NoBooking,
    /// <summary>The lecturer has no live Google connection (never connected, disconnected or revoked): nothing is sent.</summary>
    NotConnected,
    UpToDate,
    Created,
    Updated,
    Deleted,
    /// <summary>Google answered invalid_grant during this converge: the connection is now marked revoked.</summary>
    Revoked,
    /// <summary>A new booking's Zoom meeting is not there yet: look again at <see cref="EventConvergeResult.RetryAtUtc"/> (the Zoom converger asks sooner).</summary>
    AwaitingJoinLink,
    /// <summary>Another converger is inserting this booking's event right now: look again at <see cref="EventConvergeResult.RetryAtUtc"/>.</summary>
    InsertInProgress,
    /// <summary>Google answered 404 for the lecturer's calendar: it was deleted by hand (the converger re-creates it and tries again).</summary>
    CalendarGone,
}

/// <summary>The outcome of one converge, with the event id when there is one.</summary>
public sealed record EventConvergeResult(EventConvergence Outcome, string? EventId = null, DateTimeOffset? RetryAtUtc = null);

/// <summary>
/// Makes a booking's event in the lecturer's "Cafetalk lessons" calendar match its desired state: inserted under an
/// id derived from the booking id (409, or 403, means the id is held, by a live or a deleted event: one update makes
/// it match and restores it), replaced whole by events.update on reschedule, on a new join link or after a hand edit
/// (so hand-added guests and text go), deleted on cancel (404/410 mean done). A calendar the lecturer deleted is
/// re-created (<see cref="CalendarRecreations"/>). What Google holds is written to the row's <c>Google*</c> columns
/// against its ETag.
/// </summary>
public sealed class CalendarEventConverger(
    BookingRows rows,
    CalendarConnections connections,
    GoogleAuthorization authorization,
    CalendarClientFactory clients,
    CalendarEventIds eventIds,
    GoogleDisclosures disclosures,
    CalendarRevocations revocations,
    CalendarRecreations recreations,
    IOptions<GoogleCalendarOptions> options,
    TimeProvider time,
    ConvergeMetrics metrics,
    ILogger<CalendarEventConverger> logger)
{
    public async Task<EventConvergeResult> ConvergeAsync(string lecturerId, string bookingId, string? correlationId = null, CancellationToken cancellationToken = default) =>
        await RunAsync(lecturerId, bookingId, correlationId, restore: false, null, cancellationToken);

    /// <summary>Converges <paramref name="request"/>'s booking, emptying the outbox markers the meeting converger sent before it asked.</summary>
    public async Task<EventConvergeResult> ConvergeAsync(ConvergeRequest request, string? correlationId = null, CancellationToken cancellationToken = default) =>
        await RunAsync(request.LecturerId, request.BookingId, correlationId, restore: false, request.SentMarkers, cancellationToken);

    /// <summary>Like <see cref="ConvergeAsync(string, string, string?, CancellationToken)"/>, but trusts nothing the row says Google holds: the nightly sync saw the event changed by hand.</summary>
    public async Task<EventConvergeResult> RestoreAsync(string lecturerId, string bookingId, string? correlationId = null, CancellationToken cancellationToken = default) =>
        await RunAsync(lecturerId, bookingId, correlationId, restore: true, null, cancellationToken);

    /// <summary>How many times one converge re-creates a calendar the lecturer deleted before it gives up for this message.</summary>
    private const int MaxCalendarRecreations = 3;

    private readonly ConvergeLoop _loop = new(rows);

    private async Task<EventConvergeResult> RunAsync(string lecturerId, string bookingId, string? correlationId, bool restore, IReadOnlyList<string>? sentBefore, CancellationToken cancellationToken)
    {
        correlationId ??= Guid.NewGuid().ToString("N");
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["CorrelationId"] = correlationId, ["BookingId"] = bookingId });
        var handOff = sentBefore is { Count: > 0 } ? new ConvergeHandOff<EventConvergeResult> { SentBefore = sentBefore } : null;
        var run = await _loop.RunAsync(lecturerId, bookingId, new EventConvergeRun(this, correlationId, restore), handOff, cancellationToken);
        if (run.Acted)
        {
            metrics.Converged(DisclosurePolicy.Google.Key, run.Result.Outcome.ToString(), run.Booking!.Row);
        }

        return run.Result;
    }

    /// <summary>What Google must be told on one read of the row, and through which connection.</summary>
    private sealed record EventPlan(Step Step, CalendarConnection Connection, DesiredState Desired, Event Wanted, string Fingerprint);

    /// <summary>One converge of one booking's event, plugged into <see cref="ConvergeLoop"/>.</summary>
    private sealed class EventConvergeRun(CalendarEventConverger converger, string correlationId, bool restore) : IProviderConverger<EventPlan, EventConvergeResult>
    {
        private int _recreated;

        public EventConvergeResult NoBooking { get; } = new(EventConvergence.NoBooking);

        // A newer event sends its own calendar-converge message, so the event settles on what it acted on.
        public bool ReadsAgainWhenRowMoved => false;

        public Task<ConvergePlan<EventPlan, EventConvergeResult>> PlanAsync(BookingSnapshot booking, CancellationToken cancellationToken) =>
            converger.PlanAsync(booking, restore, cancellationToken);

        public async Task<ConvergeAct<EventConvergeResult>> ActAsync(BookingSnapshot booking, EventPlan plan, CancellationToken cancellationToken)
        {
            var act = await converger.ActAsync(booking, plan, correlationId, _recreated < MaxCalendarRecreations, cancellationToken);
            if (act.ReadAgain)
            {
                // The calendar was re-created: this booking now goes into the new one.
                _recreated++;
            }

            return act;
        }
    }

    /// <summary>One decision on one read of the row: what Google must be told (claimed first for an insert), or nothing.</summary>
    private async Task<ConvergePlan<EventPlan, EventConvergeResult>> PlanAsync(BookingSnapshot booking, bool restore, CancellationToken cancellationToken)
    {
        var row = booking.Row;
        var connection = await connections.FindRecentAsync(booking.LecturerId, cancellationToken);
        if (connection is not { Status: ConnectionStatus.Connected })
        {
            return Nothing(new EventConvergeResult(EventConvergence.NotConnected));
        }

        var calendarId = connection.CalendarId;
        var (step, desired, wanted, fingerprint) = Plan(row, calendarId, restore);
        var plan = new EventPlan(step, connection, desired, wanted, fingerprint);
        switch (step)
        {
            case Step.None:
                return Nothing(new EventConvergeResult(EventConvergence.UpToDate, CalendarEventColumns.Read(row).IsLiveIn(calendarId) ? eventIds.For(booking.BookingId) : null));
            case Step.Insert when AwaitsJoinLink(row) is { } retryAt:
                return Nothing(new EventConvergeResult(EventConvergence.AwaitingJoinLink, RetryAtUtc: retryAt));
            case Step.Insert:
                // Two copies of a message (intake's and the Zoom converger's) can reach here at once; one inserts, the other
                // would get 409 and patch: a wasted request. An ETag-guarded claim on the row lets exactly one through.
                var now = time.GetUtcNow();
                if (row.GetDateTimeOffset(CalendarEventColumns.InsertClaimUntilUtc) is { } claimedUntil && claimedUntil > now)
                {
                    return Nothing(new EventConvergeResult(EventConvergence.InsertInProgress, RetryAtUtc: claimedUntil));
                }

                return ConvergePlan.Act<EventPlan, EventConvergeResult>(plan,
                    new TableEntity(booking.LecturerId, booking.BookingId) { [CalendarEventColumns.InsertClaimUntilUtc] = now + options.Value.InsertClaim });
            default:
                return ConvergePlan.Act<EventPlan, EventConvergeResult>(plan);
        }
    }

    private static ConvergePlan<EventPlan, EventConvergeResult> Nothing(EventConvergeResult result) => ConvergePlan.Nothing<EventPlan, EventConvergeResult>(result);

    /// <summary>The Google calls of one plan; returns what Google now holds for the loop to record.</summary>
    private async Task<ConvergeAct<EventConvergeResult>> ActAsync(BookingSnapshot booking, EventPlan plan, string correlationId, bool mayRecreate, CancellationToken cancellationToken)
    {
        var connection = plan.Connection;
        string accessToken;
        try
        {
            accessToken = await authorization.GetAccessTokenAsync(connection, correlationId, cancellationToken);
        }
        catch (GoogleAuthorizationException ex) when (ex.IsRevoked)
        {
            await revocations.MarkRevokedAsync(connection, correlationId, cancellationToken);
            return new ConvergeAct<EventConvergeResult>(new EventConvergeResult(EventConvergence.Revoked)) { ChangedProvider = false };
        }

        using var client = clients.Create(accessToken);
        var call = new Call(client, connection, plan.Desired, connection.CalendarId, eventIds.For(booking.BookingId), correlationId);
        try
        {
            var act = plan.Step switch
            {
                Step.Delete => await DeleteAsync(booking, call, cancellationToken),
                Step.Update => await UpdateAsync(booking, call, plan.Wanted, plan.Fingerprint, insertIfGone: true, cancellationToken),
                _ => await InsertAsync(booking, call, plan.Wanted, plan.Fingerprint, cancellationToken),
            };
            if (act.Result.Outcome == EventConvergence.CalendarGone && mayRecreate)
            {
                // The lecturer deleted the calendar: a new one is made (once, whoever comes first), then this booking goes into it.
                await recreations.RecreateAsync(connection, client, correlationId, cancellationToken);
                await rows.WriteUnguardedAsync(new TableEntity(booking.LecturerId, booking.BookingId) { [CalendarEventColumns.InsertClaimUntilUtc] = time.GetUtcNow() }, cancellationToken);
                return act with { ReadAgain = true };
            }

            return act;
        }
        catch (CalendarApiException ex) when (ex.Status == HttpStatusCode.Unauthorized)
        {
            // The cached access token was refused: the retry refreshes, and a revoked grant then shows as invalid_grant.
            authorization.Forget(booking.LecturerId);
            throw;
        }
    }

    /// <summary>When a just-confirmed booking has no Zoom meeting yet, the time until which its insert waits for the join link.</summary>
    private DateTimeOffset? AwaitsJoinLink(TableEntity row)
    {
        if (CalendarEventColumns.ReadJoinUrl(row) is not null || !string.IsNullOrEmpty(row.GetString(MeetingColumns.MeetingId))
            || row.GetDateTimeOffset(BookingRow.DesiredChangedAtUtc) is not { } changedAt)
        {
            return null;
        }

        var until = changedAt + options.Value.JoinLinkWait;
        return until > time.GetUtcNow() ? until : null;
    }

    private async Task<ConvergeAct<EventConvergeResult>> InsertAsync(BookingSnapshot snapshot, Call call, Event wanted, string fingerprint, CancellationToken cancellationToken)
    {
        var body = CalendarEventPayload.Build(call.Desired, options.Value.EventSummary, wanted.Description, call.EventId);
        var outcome = await disclosures.DiscloseAsync(Disclosure(call, "insert", CalendarEventPayload.FieldNames(true, wanted.Description is not null)),
            context => call.Client.InsertEventAsync(call.CalendarId, body, context, cancellationToken), _ => call.EventId, cancellationToken);
        if (outcome == EventInsertOutcome.CalendarGone)
        {
            return new ConvergeAct<EventConvergeResult>(new EventConvergeResult(EventConvergence.CalendarGone));
        }

        if (outcome == EventInsertOutcome.AlreadyExists)
        {
            // The id is ours, so the event exists from an attempt whose write-back was lost, or was deleted (Google keeps the id): make it match.
            logger.LogInformation("Calendar event {EventId} of booking {BookingId} already existed; updating it to the desired state", call.EventId, call.Desired.BookingId);
            return await UpdateAsync(snapshot, call, wanted, fingerprint, insertIfGone: false, cancellationToken);
        }

        logger.LogInformation("Calendar event {EventId} inserted for booking {BookingId} v{Version}", call.EventId, call.Desired.BookingId, call.Desired.Version);
        return Recorded(snapshot, call, EventConvergence.Created, fingerprint);
    }

    private async Task<ConvergeAct<EventConvergeResult>> UpdateAsync(BookingSnapshot snapshot, Call call, Event wanted, string fingerprint, bool insertIfGone, CancellationToken cancellationToken)
    {
        var found = await disclosures.DiscloseAsync(Disclosure(call, "update", CalendarEventPayload.FieldNames(false, wanted.Description is not null)),
            context => call.Client.UpdateEventAsync(call.CalendarId, call.EventId, wanted, context, cancellationToken), _ => call.EventId, cancellationToken);
        if (!found)
        {
            if (!insertIfGone)
            {
                throw new CalendarApiException("events.update", HttpStatusCode.NotFound, "notFound");
            }

            logger.LogWarning("Calendar event {EventId} of booking {BookingId} is gone from Google; inserting it again", call.EventId, call.Desired.BookingId);
            return await InsertAsync(snapshot, call, wanted, fingerprint, cancellationToken);
        }

        logger.LogInformation("Calendar event {EventId} updated for booking {BookingId} v{Version}", call.EventId, call.Desired.BookingId, call.Desired.Version);
        return Recorded(snapshot, call, EventConvergence.Updated, fingerprint);
    }

    /// <summary>The event is live as wanted: the row's <c>Google*</c> columns say so.</summary>
    private ConvergeAct<EventConvergeResult> Recorded(BookingSnapshot snapshot, Call call, EventConvergence outcome, string fingerprint) =>
        new(new EventConvergeResult(outcome, call.EventId), CalendarEventColumns.Live(snapshot.Row, call.EventId, call.CalendarId, fingerprint, call.Desired.Version, time.GetUtcNow()));

    private async Task<ConvergeAct<EventConvergeResult>> DeleteAsync(BookingSnapshot snapshot, Call call, CancellationToken cancellationToken)
    {
        // The calendar and event ids are opaque ids Google issued or we derived by a keyed hash: no personal data, no ledger row.
        var context = DisclosureContext.WithoutPersonalData(disclosures.Purpose(DisclosurePolicy.PurposeIds.GoogleLessonCalendar));
        var existed = await call.Client.DeleteEventAsync(call.CalendarId, call.EventId, context, cancellationToken);
        logger.LogInformation("Calendar event {EventId} of cancelled booking {BookingId} deleted (it {Existed} in Google)", call.EventId, call.Desired.BookingId, existed ? "existed" : "was already gone");
        return new ConvergeAct<EventConvergeResult>(new EventConvergeResult(EventConvergence.Deleted, call.EventId), CalendarEventColumns.Removed(snapshot.Row, call.Desired.Version, time.GetUtcNow()));
    }

    private static GoogleDisclosure Disclosure(Call call, string operation, IReadOnlyList<string> fields) =>
        new(DisclosurePolicy.PurposeIds.GoogleLessonCalendar, operation, call.Connection.LecturerId, call.Desired.StudentId,
            call.Connection.ConsentRecordId, call.CorrelationId, fields, call.Desired.BookingId, call.EventId);

    /// <summary>
    /// Whether the row says Google lags the booking's desired state, decided from the row alone (no request): how the
    /// nightly sync finds a booking whose converge message was lost or poisoned.
    /// </summary>
    public bool Lags(TableEntity row, string calendarId) => Plan(row, calendarId, restore: false).Step != Step.None;

    private (Step Step, DesiredState Desired, Event Wanted, string Fingerprint) Plan(TableEntity row, string calendarId, bool restore)
    {
        var desired = BookingRow.ToDesiredState(row);
        var facts = CalendarEventColumns.Read(row);
        var wanted = CalendarEventPayload.Build(desired, options.Value.EventSummary, CalendarEventColumns.ReadJoinUrl(row));
        var fingerprint = CalendarEventPayload.Fingerprint(wanted);
        var step = desired.Status switch
        {
            BookingStatus.Confirmed when !restore && facts.IsLiveIn(calendarId) && facts.Fingerprint == fingerprint => Step.None,
            BookingStatus.Confirmed when facts.IsLiveIn(calendarId) || restore => Step.Update,
            BookingStatus.Confirmed => Step.Insert,
            BookingStatus.Cancelled when facts.IsLiveIn(calendarId) || restore => Step.Delete,
            _ => Step.None,
        };
        return (step, desired, wanted, fingerprint);
    }

    private enum Step
    {
        None,
        Insert,
        Update,
        Delete,
    }

    private sealed record Call(CalendarClient Client, CalendarConnection Connection, DesiredState Desired, string CalendarId, string EventId, string CorrelationId);
}

/// <summary>
/// Handles a grant the lecturer withdrew: marks the connection revoked (so no message for that lecturer calls Google
/// again) and, once, queues <c>com.cafetalk.calendar.connection-revoked</c> for the site to tell the lecturer.
/// </summary>
public sealed class CalendarRevocations(CalendarConnections connections, SiteNotifier notifier, TimeProvider time, ILogger<CalendarRevocations> logger)
{
    public async Task MarkRevokedAsync(CalendarConnection connection, string correlationId, CancellationToken cancellationToken = default)
    {
        // The connection may be one the converger reused: the mark goes against the row as it is now, and only
        // while it still holds the grant Google refused (a lecturer who reconnected meanwhile is not marked).
        var current = await connections.FindAsync(connection.LecturerId, cancellationToken);
        if (current is null || current.RefreshToken != connection.RefreshToken
            || !await connections.MarkRevokedAsync(current, time.GetUtcNow(), cancellationToken))
        {
            return;
        }

        await notifier.PublishAsync(SiteNotificationTypes.CalendarConnectionRevoked,
            new Dictionary<string, object?> { ["lecturerId"] = connection.LecturerId, ["correlationId"] = correlationId }, cancellationToken);
        logger.LogWarning("Google access of lecturer {LecturerId} was revoked (invalid_grant); calendar updates stop until they connect again", connection.LecturerId);
    }
}

/// <summary>
/// Handles a "Cafetalk lessons" calendar the lecturer deleted in Google (every call naming it answers 404): makes a
/// new one, stores its id against the connection's ETag (so two workers make one, and the loser's copy is deleted),
/// clears the sync token, queues a converge for each upcoming booking so their events are inserted again, and queues
/// <c>com.cafetalk.calendar.lesson-calendar-recreated</c> for the site to tell the lecturer (ids only).
/// </summary>
public sealed class CalendarRecreations(
    CalendarConnections connections,
    StorageAccount storage,
    SiteNotifier notifier,
    GoogleDisclosures disclosures,
    IOptions<GoogleCalendarOptions> options,
    TimeProvider time,
    ILogger<CalendarRecreations> logger)
{
    /// <summary>The connection's calendar id after the re-creation (ours, or the one another worker stored first).</summary>
    public async Task<string> RecreateAsync(CalendarConnection gone, CalendarClient client, string correlationId, CancellationToken cancellationToken = default)
    {
        var current = await connections.FindAsync(gone.LecturerId, cancellationToken);
        if (current is null || current.CalendarId != gone.CalendarId)
        {
            return current?.CalendarId ?? gone.CalendarId; // disconnected, or re-created already
        }

        // Names our calendar only: no personal data leaves, so there is no ledger row.
        var context = DisclosureContext.WithoutPersonalData(disclosures.Purpose(DisclosurePolicy.PurposeIds.GoogleLessonCalendar));
        var calendar = await client.InsertCalendarAsync(new Calendar { Summary = options.Value.CalendarSummary }, context, cancellationToken);
        if (!await connections.ReplaceCalendarAsync(current, calendar.Id!, cancellationToken))
        {
            await client.DeleteCalendarAsync(calendar.Id!, context, cancellationToken);
            return (await connections.FindAsync(gone.LecturerId, cancellationToken))?.CalendarId ?? gone.CalendarId;
        }

        var queued = await QueueUpcomingAsync(gone.LecturerId, cancellationToken);
        await notifier.PublishAsync(SiteNotificationTypes.LessonCalendarRecreated,
            new Dictionary<string, object?> { ["lecturerId"] = gone.LecturerId, ["correlationId"] = correlationId }, cancellationToken);
        logger.LogWarning("The lesson calendar of lecturer {LecturerId} was deleted in Google; made a new one and queued {Bookings} upcoming booking(s)", gone.LecturerId, queued);
        return calendar.Id!;
    }

    private Task<int> QueueUpcomingAsync(string lecturerId, CancellationToken cancellationToken) =>
        CalendarBackfill.QueueUpcomingAsync(storage, time.GetUtcNow(), options.Value.BackfillHorizon, lecturerId, cancellationToken);
}
