using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Disclosure;

namespace Cafetalk.Integrations.Bookings;

/// <summary>How an event changed the stored desired state.</summary>
public enum ApplyResult
{
    Created,
    Updated,
    /// <summary>A newer version is stored: an event that arrived late.</summary>
    Unchanged,
    /// <summary>
    /// This very version is stored: a redelivery — perhaps the host's retry after the worker that wrote it died before
    /// it sent its converge requests. Nothing is written; the requests go again (the convergers are idempotent), which
    /// costs a redelivery a few queue messages instead of costing every event a second write to mark them sent.
    /// </summary>
    RequestsPending,
    /// <summary>
    /// The event names an erased member: nothing was written. The row was marked erased (or, for a new row or a new
    /// student, the tombstone query of <see cref="BookingStateStore.ApplyChangeAsync"/> said so).
    /// </summary>
    Erased,
}

/// <summary>What an event did to the stored desired state, and what intake needs to know to ask the convergers.</summary>
public sealed record AppliedChange(ApplyResult Result, bool MayHaveRecording);

/// <summary>
/// Table <c>Bookings</c> (PartitionKey lecturerId, RowKey bookingId): the desired state of each booking,
/// written only when an event's version is newer and only against the ETag that was read.
/// </summary>
public sealed class BookingStateStore(BookingRows rows, TimeProvider time)
{
    private TableClient Table => rows.Table;

    public async Task<ApplyResult> ApplyAsync(BookingEvent incoming, CancellationToken cancellationToken = default) =>
        (await ApplyChangeAsync(incoming, _ => Task.FromResult(false), cancellationToken)).Result;

    /// <summary>
    /// Applies <paramref name="incoming"/> unless it names an erased member. <paramref name="anyPartyErased"/> (the
    /// tombstone query) is asked only when the event would write a member id the row does not hold yet: a new row, or a
    /// new student. A row that already names both parties answers by itself: an erasure writes the tombstone, then
    /// marks every row of the member (<see cref="MarkErasedAsync"/>), and a mark landing after this read makes the
    /// ETag-guarded write lose and read the mark. So a reschedule or cancel costs no tombstone query.
    /// </summary>
    public async Task<AppliedChange> ApplyChangeAsync(BookingEvent incoming, Func<CancellationToken, Task<bool>> anyPartyErased, CancellationToken cancellationToken = default)
    {
        var table = Table;
        return await BookingConflictRetry.RunAsync(incoming.BookingId, async _ =>
        {
            var existing = await table.GetEntityIfExistsAsync<TableEntity>(incoming.LecturerId, incoming.BookingId, cancellationToken: cancellationToken);
            var row = existing.HasValue ? existing.Value : null;
            var namesErasedMember = row is null ? await anyPartyErased(cancellationToken)
                : row.GetDateTimeOffset(BookingRow.ErasedAtUtc) is not null
                    || (row.GetString(BookingRow.StudentId) != incoming.StudentId && await anyPartyErased(cancellationToken));
            if (namesErasedMember)
            {
                return (true, new AppliedChange(ApplyResult.Erased, false));
            }

            var current = existing.HasValue ? BookingRow.ToDesiredState(existing.Value!) : null;
            var mayHaveRecording = existing.HasValue && MayHaveRecording(existing.Value!);
            var next = DesiredState.Merge(current, incoming);
            if (next is null)
            {
                return (true, new AppliedChange(current!.Version == incoming.Version ? ApplyResult.RequestsPending : ApplyResult.Unchanged, mayHaveRecording));
            }

            var entity = BookingRow.FromDesiredState(next, time.GetUtcNow());
            try
            {
                if (!existing.HasValue)
                {
                    await table.AddEntityAsync(entity, cancellationToken);
                    return (true, new AppliedChange(ApplyResult.Created, false));
                }

                // Merge keeps the converger's actual-state columns; the ETag makes a concurrent write lose and retry.
                await table.UpdateEntityAsync(entity, existing.Value!.ETag, TableUpdateMode.Merge, cancellationToken);
                return (true, new AppliedChange(ApplyResult.Updated, mayHaveRecording));
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412)
            {
                return (false, new AppliedChange(ApplyResult.Unchanged, mayHaveRecording));
            }
        }, cancellationToken);
    }

    /// <summary>
    /// Whether the lesson can have left a recording: its meeting recorded to the cloud and it was due to have started.
    /// A recording is only uploaded after the meeting ended, and one finishing after a cancel is discarded by the archive.
    /// </summary>
    private bool MayHaveRecording(TableEntity row) =>
        row.GetString(MeetingColumns.AutoRecording) == MeetingColumns.CloudRecording
        && row.GetDateTimeOffset(BookingRow.StartsAtUtc) is { } startsAt && startsAt <= time.GetUtcNow();

    public async Task<DesiredState?> GetAsync(string lecturerId, string bookingId, CancellationToken cancellationToken = default) =>
        (await rows.ReadAsync(lecturerId, bookingId, cancellationToken))?.Desired;

    /// <summary>
    /// Marks every booking the member is a party of (as lecturer or student) as erased, so each provider's
    /// converger removes what it shared and never shares it again, whatever events still arrive.
    /// </summary>
    public async Task<IReadOnlyList<(string LecturerId, string BookingId)>> MarkErasedAsync(string memberId, CancellationToken cancellationToken = default)
    {
        var marked = new List<(string, string)>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {memberId} or StudentId eq {memberId}");
        await foreach (var row in rows.QueryAsync(filter, ["PartitionKey", "RowKey", BookingRow.ErasedAtUtc], cancellationToken))
        {
            if (row.GetDateTimeOffset(BookingRow.ErasedAtUtc) is null)
            {
                // This column only ever goes from empty to set, so no write can be lost to it.
                await rows.WriteUnguardedAsync(new TableEntity(row.PartitionKey, row.RowKey) { [BookingRow.ErasedAtUtc] = time.GetUtcNow() }, cancellationToken);
            }

            marked.Add((row.PartitionKey, row.RowKey));
        }

        return marked;
    }

    /// <summary>
    /// The last step of a completed erasure, once every provider has deleted what it held: the member's ids and the
    /// join link leave the rows. A row whose PartitionKey is the erased lecturer cannot be rewritten under another
    /// key, so it is deleted (the tombstone keeps late events from re-creating it); a row where the member was the
    /// student stays, without StudentId and join link, as the lecturer's record that the lesson was erased. It keeps
    /// the student's <paramref name="erased"/> pseudonym and erasure id instead, so a recording Zoom finishes later can
    /// still be deleted and recorded on their chain and receipt.
    /// </summary>
    public async Task<(int Scrubbed, int Deleted)> ForgetMemberAsync(string memberId, IEnumerable<(string LecturerId, string BookingId)> bookings, ErasedSubject? erased = null, CancellationToken cancellationToken = default)
    {
        var table = Table;
        var (scrubbed, deleted) = (0, 0);
        foreach (var (lecturerId, bookingId) in bookings)
        {
            try
            {
                if (lecturerId == memberId)
                {
                    await table.DeleteEntityAsync(lecturerId, bookingId, ETag.All, cancellationToken);
                    deleted++;
                    continue;
                }

                // Unguarded: only the erased member's columns are written, and a later event is refused by the tombstone.
                await rows.WriteUnguardedAsync(new TableEntity(lecturerId, bookingId)
                {
                    [BookingRow.StudentId] = string.Empty,
                    [MeetingColumns.JoinUrl] = string.Empty,
                    [BookingRow.ErasedStudentSubjectRef] = erased?.SubjectRef ?? string.Empty,
                    [BookingRow.ErasedStudentErasureId] = erased?.ErasureId ?? string.Empty,
                }, cancellationToken);
                scrubbed++;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                // Already deleted by an earlier run of this erasure.
            }
        }

        return (scrubbed, deleted);
    }

    public async IAsyncEnumerable<DesiredState> ListAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var entity in rows.QueryAsync(null, cancellationToken: cancellationToken))
        {
            yield return BookingRow.ToDesiredState(entity);
        }
    }
}

/// <summary>Raised when a booking row kept changing under us for every attempt; the message is retried later.</summary>
public sealed class BookingStateConflictException(string bookingId, int attempts)
    : Exception($"Booking {bookingId} changed concurrently on each of {attempts} attempts.")
{
    public string BookingId { get; } = bookingId;
}

/// <summary>The column layout of a <c>Bookings</c> row.</summary>
internal static class BookingRow
{
    public const string Version = nameof(Version);
    public const string Status = nameof(Status);
    public const string StudentId = nameof(StudentId);
    public const string StartsAtUtc = nameof(StartsAtUtc);
    public const string DurationMinutes = nameof(DurationMinutes);
    public const string LecturerTimeZone = nameof(LecturerTimeZone);
    public const string RecordingConsentLecturer = nameof(RecordingConsentLecturer);
    public const string RecordingConsentStudent = nameof(RecordingConsentStudent);
    public const string LastEventId = nameof(LastEventId);
    public const string DesiredChangedAtUtc = nameof(DesiredChangedAtUtc);

    /// <summary>The newest version whose converge requests were sent (an outbox mark: behind <see cref="Version"/> after a crash).</summary>

    /// <summary>Set when a party of the booking asked for erasure: every converger then treats it as cancelled.</summary>
    public const string ErasedAtUtc = nameof(ErasedAtUtc);

    /// <summary>The erased student's ledger pseudonym, kept in place of StudentId (<see cref="ErasedSubject"/>).</summary>
    public const string ErasedStudentSubjectRef = nameof(ErasedStudentSubjectRef);

    /// <summary>The erased student's keyed erasure id: their receipt and tombstone.</summary>
    public const string ErasedStudentErasureId = nameof(ErasedStudentErasureId);

    /// <summary>The erased student of a scrubbed row, or null.</summary>
    public static ErasedSubject? ErasedStudent(TableEntity row) =>
        ErasedSubject.From(row.GetString(ErasedStudentSubjectRef), row.GetString(ErasedStudentErasureId));

    public static TableEntity FromDesiredState(DesiredState state, DateTimeOffset now) => new(state.LecturerId, state.BookingId)
    {
        [Version] = state.Version,
        [Status] = state.Status.ToString(),
        [StudentId] = state.StudentId,
        [StartsAtUtc] = state.StartsAtUtc,
        [DurationMinutes] = state.DurationMinutes,
        [LecturerTimeZone] = state.LecturerTimeZone,
        [RecordingConsentLecturer] = state.RecordingConsent.Lecturer,
        [RecordingConsentStudent] = state.RecordingConsent.Student,
        [LastEventId] = state.LastEventId,
        [DesiredChangedAtUtc] = now,
    };

    public static DesiredState ToDesiredState(TableEntity row) => new(
        row.RowKey,
        row.PartitionKey,
        row.GetInt64(Version) ?? 0,
        row.GetDateTimeOffset(ErasedAtUtc) is not null ? BookingStatus.Cancelled : Enum.Parse<BookingStatus>(row.GetString(Status) ?? nameof(BookingStatus.Confirmed)),
        row.GetString(StudentId) ?? string.Empty,
        row.GetDateTimeOffset(StartsAtUtc) ?? DateTimeOffset.MinValue,
        row.GetInt32(DurationMinutes) ?? 0,
        row.GetString(LecturerTimeZone) ?? "UTC",
        new RecordingConsent(row.GetBoolean(RecordingConsentLecturer) ?? false, row.GetBoolean(RecordingConsentStudent) ?? false),
        row.GetString(LastEventId) ?? string.Empty);
}
