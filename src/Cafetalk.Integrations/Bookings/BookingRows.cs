using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Bookings;

/// <summary>
/// Table <c>Bookings</c> (PartitionKey lecturerId, RowKey bookingId) as every converger and operation sees it: read a
/// snapshot (desired state + each provider's fact columns + ETag), claim it (an ETag-guarded write that loses when
/// the row moved), and write a provider's facts (which must land). A caller that lost a race reads again under
/// <see cref="BookingConflictRetry"/>.
/// Intake's desired-state writes go through <see cref="BookingStateStore"/>, which uses the same table and policy.
/// </summary>
public sealed class BookingRows(StorageAccount storage, TimeProvider? time = null)
{
    private SiteOutbox? _outbox;

    internal TableClient Table => storage.Table(TableNames.Bookings);

    /// <summary>The row's outbox of site notifications: every fact writer of the row reaches it here, so none can write a fact without it.</summary>
    public SiteOutbox Outbox => _outbox ??= new SiteOutbox(this, new SiteNotifier(storage, time ?? TimeProvider.System));

    /// <summary>The row as it is now, or null when the booking has no row.</summary>
    public async Task<BookingSnapshot?> ReadAsync(string lecturerId, string bookingId, CancellationToken cancellationToken = default)
    {
        var read = await Table.GetEntityIfExistsAsync<TableEntity>(lecturerId, bookingId, cancellationToken: cancellationToken);
        return read.HasValue ? new BookingSnapshot(read.Value!) : null;
    }

    /// <summary>The first row matching an OData <paramref name="filter"/>, as a snapshot, or null when none does.</summary>
    public async Task<BookingSnapshot?> FindAsync(string filter, CancellationToken cancellationToken = default)
    {
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, maxPerPage: 1, cancellationToken: cancellationToken))
        {
            return new BookingSnapshot(row);
        }

        return null;
    }

    /// <summary>
    /// Writes <paramref name="columns"/> only if the row is still as <paramref name="snapshot"/> read it. On success the
    /// snapshot takes the new ETag, so a later write of the same converge chains on without reading again.
    /// </summary>
    public async Task<bool> TryClaimAsync(BookingSnapshot snapshot, TableEntity columns, CancellationToken cancellationToken = default)
    {
        try
        {
            var written = await Table.UpdateEntityAsync(columns, snapshot.Row.ETag, TableUpdateMode.Merge, cancellationToken);
            snapshot.Row.ETag = written.Headers.ETag ?? snapshot.Row.ETag;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return false;
        }
    }

    /// <summary>
    /// Records what a provider now holds. The call already happened, so the fact must land: written against the
    /// snapshot's ETag, and when the row changed under us (a newer event, another provider's facts) merged as it is,
    /// since only this provider's converger writes these columns. True when the row had not moved since
    /// <paramref name="snapshot"/> (which then carries the new ETag); false when it had, so the caller reads it again
    /// before deciding anything else.
    /// </summary>
    /// <remarks>
    /// <paramref name="clearIfUnmoved"/>: outbox markers another converger sent, emptied in the same merge only when it is
    /// guarded (the row as read still holds them); when the row moved they are left for a guarded clear of their own.
    /// </remarks>
    public async Task<bool> WriteFactsAsync(BookingSnapshot snapshot, TableEntity columns, IReadOnlyList<SiteOutboxMarker>? clearIfUnmoved = null, CancellationToken cancellationToken = default)
    {
        var guarded = clearIfUnmoved is { Count: > 0 } ? SiteOutbox.Cleared(new TableEntity(columns), clearIfUnmoved) : columns;
        if (await TryClaimAsync(snapshot, guarded, cancellationToken))
        {
            return true;
        }

        try
        {
            await WriteUnguardedAsync(columns, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // The row is gone (an erased lecturer's): no fact is needed any more.
        }

        return false;
    }

    /// <summary>Merges columns that only ever move one way (marks, timestamps), so no ETag is needed; returns the row's new ETag.</summary>
    public async Task<ETag> WriteUnguardedAsync(TableEntity columns, CancellationToken cancellationToken = default) =>
        (await Table.UpdateEntityAsync(columns, ETag.All, TableUpdateMode.Merge, cancellationToken)).Headers.ETag ?? default;

    /// <summary>Merges <paramref name="columns"/> only if the row still has <paramref name="etag"/>; false when it moved or is gone.</summary>
    public async Task<bool> TryWriteAsync(TableEntity columns, ETag etag, CancellationToken cancellationToken = default)
    {
        try
        {
            await Table.UpdateEntityAsync(columns, etag, TableUpdateMode.Merge, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return false;
        }
    }

    /// <summary>The rows matching an OData <paramref name="filter"/> (all rows when null), with only <paramref name="select"/> when given.</summary>
    public async IAsyncEnumerable<TableEntity> QueryAsync(string? filter, IEnumerable<string>? select = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, select: select, cancellationToken: cancellationToken))
        {
            yield return row;
        }
    }
}

/// <summary>One read of a <c>Bookings</c> row: the desired state, every provider's fact columns (read from <see cref="Row"/>), and its ETag.</summary>
public sealed class BookingSnapshot
{
    internal BookingSnapshot(TableEntity row)
    {
        Row = row;
        Desired = BookingRow.ToDesiredState(row);
    }

    /// <summary>The stored columns; each provider reads its own facts from it (<c>ZoomMeetingColumns.Read</c>, …).</summary>
    public TableEntity Row { get; }

    public DesiredState Desired { get; }

    public string LecturerId => Row.PartitionKey;

    public string BookingId => Row.RowKey;
}

/// <summary>
/// The one policy for losing an ETag race on a <c>Bookings</c> row: read again and retry, at most
/// <see cref="MaxAttempts"/> times with a short random pause that grows, then give up with
/// <see cref="BookingStateConflictException"/> so the message is retried later.
/// </summary>
public static class BookingConflictRetry
{
    public const int MaxAttempts = 20;

    /// <summary>Runs <paramref name="attempt"/> (given its number) until it reports it settled.</summary>
    public static async Task RunAsync(string bookingId, Func<int, Task<bool>> attempt, CancellationToken cancellationToken) =>
        await RunAsync<bool>(bookingId, async n => await attempt(n) ? (true, true) : (false, false), cancellationToken);

    /// <summary>Runs <paramref name="attempt"/> (given its number) until it settles, and returns what it settled on.</summary>
    public static async Task<T> RunAsync<T>(string bookingId, Func<int, Task<(bool Settled, T Result)>> attempt, CancellationToken cancellationToken)
    {
        for (var n = 1; n <= MaxAttempts; n++)
        {
            var (settled, result) = await attempt(n);
            if (settled)
            {
                return result;
            }

            // Real time on purpose: this backs off storage contention, it is not business time.
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(0, 5 * n)), cancellationToken);
        }

        throw new BookingStateConflictException(bookingId, MaxAttempts);
    }
}
