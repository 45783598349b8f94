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
        await RunAsync(lecturerId, bookingId, correlationId, restore: false, cancellationToken);

    /// <summary>Like <see cref="ConvergeAsync"/>, but trusts nothing the row says Google holds: the nightly sync saw the event changed by hand.</summary>
    public async Task<EventConvergeResult> RestoreAsync(string lecturerId, string bookingId, string? correlationId = null, CancellationToken cancellationToken = default) =>
        await RunAsync(lecturerId, bookingId, correlationId, restore: true, cancellationToken);

    /// <summary>How many times one converge re-creates a calendar the lecturer deleted before it gives up for this message.</summary>
    private const int MaxCalendarRecreations = 3;

    private async Task<EventConvergeResult> RunAsync(string lecturerId, string bookingId, string? correlationId, bool restore, CancellationToken cancellationToken)
    {
        correlationId ??= Guid.NewGuid().ToString("N");
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["CorrelationId"] = correlationId, ["BookingId"] = bookingId });
        var recreated = 0;
        return await BookingConflictRetry.RunAsync(bookingId, async _ =>
        {
            var result = await StepAsync(lecturerId, bookingId, correlationId, restore, recreated < MaxCalendarRecreations, cancellationToken);
            if (result is { Outcome: EventConvergence.CalendarGone, RetryAtUtc: not null })
            {
                // The calendar was re-created: this booking now goes into the new one.
                recreated++;
                return (false, result);
            }

            return (result is not null, result!);
        }, cancellationToken);
    }

    /// <summary>One decision on one read of the row: a result, or null when the row moved under our claim (read again).</summary>
    private async Task<EventConvergeResult?> StepAsync(string lecturerId, string bookingId, string correlationId, bool restore, bool mayRecreate, CancellationToken cancellationToken)
    {
        var snapshot = await rows.ReadAsync(lecturerId, bookingId, cancellationToken);
        if (snapshot is null)
        {
            return new EventConvergeResult(EventConvergence.NoBooking);
        }

        var row = snapshot.Row;
        var connection = await connections.FindAsync(lecturerId, cancellationToken);
        if (connection is not { Status: ConnectionStatus.Connected })
        {
            return new EventConvergeResult(EventConvergence.NotConnected);
        }

        var calendarId = connection.CalendarId;
        var (step, desired, wanted, fingerprint) = Plan(row, calendarId, restore);
        var facts = CalendarEventColumns.Read(row);
        var eventId = eventIds.For(bookingId);
        if (step == Step.None)
        {
            return new EventConvergeResult(EventConvergence.UpToDate, facts.IsLiveIn(calendarId) ? eventId : null);
        }

        if (step == Step.Insert && AwaitsJoinLink(row) is { } retryAt)
        {
            return new EventConvergeResult(EventConvergence.AwaitingJoinLink, RetryAtUtc: retryAt);
        }

        if (step == Step.Insert)
        {
            // Two copies of a message (intake's and the Zoom converger's) can reach here at once; one inserts, the other
            // would get 409 and patch: a wasted request. An ETag-guarded claim on the row lets exactly one through.
            var now = time.GetUtcNow();
            if (row.GetDateTimeOffset(CalendarEventColumns.InsertClaimUntilUtc) is { } claimedUntil && claimedUntil > now)
            {
                return new EventConvergeResult(EventConvergence.InsertInProgress, RetryAtUtc: claimedUntil);
            }

            if (!await rows.TryClaimAsync(snapshot, new TableEntity(lecturerId, bookingId) { [CalendarEventColumns.InsertClaimUntilUtc] = now + options.Value.InsertClaim }, cancellationToken))
            {
                return null;
            }
        }

        string accessToken;
        try
        {
            accessToken = await authorization.GetAccessTokenAsync(connection, correlationId, cancellationToken);
        }
        catch (GoogleAuthorizationException ex) when (ex.IsRevoked)
        {
            await revocations.MarkRevokedAsync(connection, correlationId, cancellationToken);
            return new EventConvergeResult(EventConvergence.Revoked);
        }

        using var client = clients.Create(accessToken);
        var context = new Call(client, connection, desired, calendarId, eventId, correlationId);
        try
        {
            var result = step switch
            {
                Step.Delete => await DeleteAsync(snapshot, context, cancellationToken),
                Step.Update => await UpdateAsync(snapshot, context, wanted, fingerprint, insertIfGone: true, cancellationToken),
                _ => await InsertAsync(snapshot, context, wanted, fingerprint, cancellationToken),
            };
            if (result.Outcome == EventConvergence.CalendarGone && mayRecreate)
            {
                // The lecturer deleted the calendar: a new one is made (once, whoever comes first), then this booking goes into it.
                await recreations.RecreateAsync(connection, client, correlationId, cancellationToken);
                await rows.WriteUnguardedAsync(new TableEntity(lecturerId, bookingId) { [CalendarEventColumns.InsertClaimUntilUtc] = time.GetUtcNow() }, cancellationToken);
                return result with { RetryAtUtc = time.GetUtcNow() };
            }

            metrics.Converged(DisclosurePolicy.Google.Key, result.Outcome.ToString(), row);
            return result;
        }
        catch (CalendarApiException ex) when (ex.Status == HttpStatusCode.Unauthorized)
        {
            // The cached access token was refused: the retry refreshes, and a revoked grant then shows as invalid_grant.
            authorization.Forget(lecturerId);
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

    private async Task<EventConvergeResult> InsertAsync(BookingSnapshot snapshot, Call call, Event wanted, string fingerprint, CancellationToken cancellationToken)
    {
        var body = CalendarEventPayload.Build(call.Desired, options.Value.EventSummary, wanted.Description, call.EventId);
        var outcome = await disclosures.DiscloseAsync(Disclosure(call, "insert", CalendarEventPayload.FieldNames(true, wanted.Description is not null)),
            context => call.Client.InsertEventAsync(call.CalendarId, body, context, cancellationToken), _ => call.EventId, cancellationToken);
        if (outcome == EventInsertOutcome.CalendarGone)
        {
            return new EventConvergeResult(EventConvergence.CalendarGone);
        }

        if (outcome == EventInsertOutcome.AlreadyExists)
        {
            // The id is ours, so the event exists from an attempt whose write-back was lost, or was deleted (Google keeps the id): make it match.
            logger.LogInformation("Calendar event {EventId} of booking {BookingId} already existed; updating it to the desired state", call.EventId, call.Desired.BookingId);
            return await UpdateAsync(snapshot, call, wanted, fingerprint, insertIfGone: false, cancellationToken);
        }

        await rows.WriteFactsAsync(snapshot, CalendarEventColumns.Live(snapshot.Row, call.EventId, call.CalendarId, fingerprint, call.Desired.Version, time.GetUtcNow()), cancellationToken);
        logger.LogInformation("Calendar event {EventId} inserted for booking {BookingId} v{Version}", call.EventId, call.Desired.BookingId, call.Desired.Version);
        return new EventConvergeResult(EventConvergence.Created, call.EventId);
    }

    private async Task<EventConvergeResult> UpdateAsync(BookingSnapshot snapshot, Call call, Event wanted, string fingerprint, bool insertIfGone, CancellationToken cancellationToken)
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

        await rows.WriteFactsAsync(snapshot, CalendarEventColumns.Live(snapshot.Row, call.EventId, call.CalendarId, fingerprint, call.Desired.Version, time.GetUtcNow()), cancellationToken);
        logger.LogInformation("Calendar event {EventId} updated for booking {BookingId} v{Version}", call.EventId, call.Desired.BookingId, call.Desired.Version);
        return new EventConvergeResult(EventConvergence.Updated, call.EventId);
    }

    private async Task<EventConvergeResult> DeleteAsync(BookingSnapshot snapshot, Call call, CancellationToken cancellationToken)
    {
        // The calendar and event ids are opaque ids Google issued or we derived by a keyed hash: no personal data, no ledger row.
        var context = DisclosureContext.WithoutPersonalData(disclosures.Purpose(DisclosurePolicy.PurposeIds.GoogleLessonCalendar));
        var existed = await call.Client.DeleteEventAsync(call.CalendarId, call.EventId, context, cancellationToken);
        await rows.WriteFactsAsync(snapshot, CalendarEventColumns.Removed(snapshot.Row, call.Desired.Version, time.GetUtcNow()), cancellationToken);
        logger.LogInformation("Calendar event {EventId} of cancelled booking {BookingId} deleted (it {Existed} in Google)", call.EventId, call.Desired.BookingId, existed ? "existed" : "was already gone");
        return new EventConvergeResult(EventConvergence.Deleted, call.EventId);
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
        if (!await connections.MarkRevokedAsync(connection, time.GetUtcNow(), cancellationToken))
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
