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
    ZoomDailyLimit dailyLimit,
    ZoomBookingReference references,
    ZoomDisclosures disclosures,
    IOptions<ZoomOptions> options,
    TimeProvider time,
    ConvergeMetrics metrics,
    ILogger<MeetingConverger> logger)
{
    public async Task<MeetingConvergeResult> ConvergeAsync(string lecturerId, string bookingId, string? correlationId = null, CancellationToken cancellationToken = default)
    {
        correlationId ??= Guid.NewGuid().ToString("N");
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["CorrelationId"] = correlationId, ["BookingId"] = bookingId });
        MeetingConvergeResult? acted = null;
        return await BookingConflictRetry.RunAsync(bookingId, async _ =>
        {
            var snapshot = await rows.ReadAsync(lecturerId, bookingId, cancellationToken);
            if (snapshot is null)
            {
                return (true, new MeetingConvergeResult(MeetingConvergence.NoBooking));
            }

            var pending = new Pending(snapshot, ZoomMeetingColumns.Read(snapshot.Row), correlationId);
            var step = await StepAsync(pending, cancellationToken);
            if (step is null)
            {
                // The row moved on (our own fact write or a newer event): look again before deciding anything.
                return (false, step!);
            }

            if (step.Outcome == MeetingConvergence.Deferred)
            {
                return (true, step);
            }

            if (step.Outcome != MeetingConvergence.UpToDate)
            {
                acted = step;
                if (pending.RowMoved)
                {
                    // A newer event landed while we were calling Zoom: read it before saying we are done.
                    return (false, step);
                }
            }

            if (acted is not null)
            {
                metrics.Converged(DisclosurePolicy.Zoom.Key, acted.Outcome.ToString(), snapshot.Row);
            }

            return (true, acted ?? step);
        }, cancellationToken);
    }

    /// <summary>One decision on one read of the row: a finished result, or null to read again.</summary>
    private async Task<MeetingConvergeResult?> StepAsync(Pending p, CancellationToken cancellationToken)
    {
        var facts = p.Facts;
        var now = time.GetUtcNow();
        if (facts.CreateLeaseUntilUtc is { } lease && facts.MeetingId is null)
        {
            if (lease > now)
            {
                return new MeetingConvergeResult(MeetingConvergence.Deferred, RetryAtUtc: lease);
            }

            await RecoverInterruptedCreateAsync(p, cancellationToken);
            return null;
        }

        switch (p.Desired.Status)
        {
            case BookingStatus.Cancelled when facts.HasLiveMeeting:
                return await DeleteAsync(p, facts.MeetingId!, cancellationToken);
            case BookingStatus.Confirmed when facts.HasLiveMeeting && facts.Matches(p.Desired):
                return new MeetingConvergeResult(MeetingConvergence.UpToDate, facts.MeetingId);
            case BookingStatus.Confirmed when facts.HasLiveMeeting:
                return await UpdateAsync(p, facts.MeetingId!, cancellationToken);
            case BookingStatus.Confirmed:
                return await CreateAsync(p, cancellationToken);
            default:
                // Cancelled with nothing created, or completed: Zoom already looks right.
                return new MeetingConvergeResult(MeetingConvergence.UpToDate, facts.HasLiveMeeting ? facts.MeetingId : null);
        }
    }

    private async Task<MeetingConvergeResult?> CreateAsync(Pending p, CancellationToken cancellationToken)
    {
        var hostId = await hosts.ResolveAsync(p.Desired.LecturerId, cancellationToken);
        var leaseUntil = time.GetUtcNow() + options.Value.CreateLease;
        var lease = ZoomMeetingColumns.Lease(p.Row, hostId, leaseUntil);
        if (!await rows.TryClaimAsync(p.Snapshot, lease, cancellationToken))
        {
            return null;
        }

        var request = ZoomMeetingPayload.Build(p.Desired, references.For(p.Desired.BookingId));
        var disclosure = Disclosure(p, ZoomOperation.CreateMeeting, hostId, null, ZoomMeetingPayload.FieldNames);
        ZoomMeeting created;
        try
        {
            await dailyLimit.ReserveAsync(hostId, cancellationToken);
            created = await DiscloseAsync(disclosure, context => zoom.CreateMeetingAsync(hostId, request, context, cancellationToken), m => Id(m.Id), cancellationToken);
        }
        catch (ZoomDailyLimitReachedException)
        {
            // Nothing was created, so the lease is released rather than left to look like a crash.
            await WriteFactAsync(p, ZoomMeetingColumns.Released(p.Row), cancellationToken);
            await dailyLimit.MarkExhaustedAsync(hostId, cancellationToken);
            throw;
        }

        var meetingId = Id(created.Id);
        await WriteFactAsync(p, ZoomMeetingColumns.Live(p.Row, meetingId, hostId, p.Desired, time.GetUtcNow(), created.JoinUrl), cancellationToken);
        await RequestCalendarConvergeAsync(p, cancellationToken);
        logger.LogInformation("Zoom meeting {MeetingId} created on host {HostId} for booking {BookingId} v{Version}", meetingId, hostId, p.Desired.BookingId, p.Desired.Version);
        return new MeetingConvergeResult(MeetingConvergence.Created, meetingId);
    }

    private async Task<MeetingConvergeResult?> UpdateAsync(Pending p, string meetingId, CancellationToken cancellationToken)
    {
        var hostId = p.Facts.HostId ?? await hosts.ResolveAsync(p.Desired.LecturerId, cancellationToken);
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
            await WriteFactAsync(p, ZoomMeetingColumns.Forgotten(p.Row), cancellationToken);
            return null;
        }

        await WriteFactAsync(p, ZoomMeetingColumns.Live(p.Row, meetingId, hostId, p.Desired, time.GetUtcNow()), cancellationToken);
        logger.LogInformation("Zoom meeting {MeetingId} updated for booking {BookingId} v{Version}", meetingId, p.Desired.BookingId, p.Desired.Version);
        return new MeetingConvergeResult(MeetingConvergence.Updated, meetingId);
    }

    private async Task<MeetingConvergeResult> DeleteAsync(Pending p, string meetingId, CancellationToken cancellationToken)
    {
        var hostId = p.Facts.HostId ?? options.Value.DefaultHostUserId;
        var disclosure = Disclosure(p, ZoomOperation.DeleteMeeting, hostId, meetingId, []);
        var existed = await DiscloseAsync(disclosure, context => zoom.DeleteMeetingAsync(long.Parse(meetingId, CultureInfo.InvariantCulture), context, cancellationToken), _ => meetingId, cancellationToken);
        await WriteFactAsync(p, ZoomMeetingColumns.DeletedMeeting(p.Row, time.GetUtcNow()), cancellationToken);
        logger.LogInformation("Zoom meeting {MeetingId} of cancelled booking {BookingId} deleted (it {Existed} in Zoom)", meetingId, p.Desired.BookingId, existed ? "existed" : "was already gone");
        return new MeetingConvergeResult(MeetingConvergence.Deleted, meetingId);
    }

    /// <summary>A lease expired with no meeting id: the create may have reached Zoom. Adopt the meeting if it did.</summary>
    private async Task RecoverInterruptedCreateAsync(Pending p, CancellationToken cancellationToken)
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

        if (found is null)
        {
            logger.LogWarning("Interrupted create for booking {BookingId}: no meeting with its reference on host {HostId}; creating again", p.Desired.BookingId, hostId);
            await WriteFactAsync(p, ZoomMeetingColumns.Released(p.Row), cancellationToken);
            return;
        }

        var meetingId = Id(found.Id);
        logger.LogWarning("Interrupted create for booking {BookingId}: adopted Zoom meeting {MeetingId} found by its reference", p.Desired.BookingId, meetingId);
        await WriteFactAsync(p, ZoomMeetingColumns.Adopted(p.Row, meetingId, hostId, found, time.GetUtcNow()), cancellationToken);
        await RequestCalendarConvergeAsync(p, cancellationToken);
    }

    /// <summary>The join link is now known: the lecturer's calendar event shows it, so the calendar converger looks again.</summary>
    private async Task RequestCalendarConvergeAsync(Pending p, CancellationToken cancellationToken) =>
        await storage.Queue(QueueNames.CalendarConverge).SendMessageAsync(new ConvergeRequest(p.Desired.LecturerId, p.Desired.BookingId).ToJson(), cancellationToken);

    private Task<T> DiscloseAsync<T>(ZoomDisclosure disclosure, Func<DisclosureContext, Task<T>> call, Func<T, string?> meetingIdOf, CancellationToken cancellationToken) =>
        disclosures.DiscloseAsync(disclosure, call, meetingIdOf, cancellationToken);

    private static ZoomDisclosure Disclosure(Pending p, ZoomOperation operation, string hostId, string? meetingId, IReadOnlyList<string> fields) =>
        new(operation, p.Desired.BookingId, p.Desired.LecturerId, p.Desired.StudentId, hostId, meetingId, fields, p.CorrelationId);

    /// <summary>Records what Zoom now holds; a call already happened, so the fact must land (see <see cref="BookingRows.WriteFactsAsync"/>).</summary>
    private async Task WriteFactAsync(Pending p, TableEntity columns, CancellationToken cancellationToken)
    {
        if (!await rows.WriteFactsAsync(p.Snapshot, columns, cancellationToken))
        {
            p.RowMoved = true;
        }
    }

    private static string Id(long meetingId) => meetingId.ToString(CultureInfo.InvariantCulture);

    private sealed record Pending(BookingSnapshot Snapshot, ZoomMeetingFacts Facts, string CorrelationId)
    {
        public TableEntity Row => Snapshot.Row;

        public DesiredState Desired => Snapshot.Desired;

        /// <summary>Set when a fact write found the row changed since this read: the next pass must read it again.</summary>
        public bool RowMoved { get; set; }
    }
}
