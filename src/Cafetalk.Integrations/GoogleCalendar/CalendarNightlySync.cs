using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.GoogleCalendar.Api;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>What one nightly sync found, in counts.</summary>
/// <remarks>
/// <c>Failed</c>: lecturers whose sync failed. <c>Repaired</c>: upcoming bookings whose row said Google lagged (a converge
/// message lost or poisoned), converged; <c>RepairFailed</c>: such bookings whose converge failed, left for the next night.
/// <c>RestoreFailed</c>: events changed by hand whose restore failed (left to the next night's repair, the sync token
/// saved all the same). <c>Recreated</c>: lesson calendars the lecturer had deleted, made again.
/// </remarks>
public sealed record CalendarSyncReport(int Lecturers, int ListRequests, int ChangedEvents, int Restored, int FullResyncs, int Revoked, int Failed, int Repaired = 0, int RepairFailed = 0, int RestoreFailed = 0, int Recreated = 0);

/// <summary>
/// The nightly reconcile of every connected lecturer's "Cafetalk lessons" calendar: an incremental events.list with
/// the stored syncToken (a lecturer with no changes costs one request), each changed or deleted event of a booking
/// compared with the desired state and restored when it differs; 410 means the token expired and a full listing runs.
/// Then each upcoming booking whose row says Google lags its desired state is converged, so a lost or poisoned
/// <c>calendar-converge</c> message is repaired by morning; that check reads the row only and costs no request.
/// Each booking's restore and repair is isolated: one failure is counted and retried the next night, and never costs
/// the lecturer's sync token or the other bookings. A 404 on the listing means the lecturer deleted the calendar: it
/// is re-created (<see cref="CalendarRecreations"/>).
/// </summary>
public sealed class CalendarNightlySync(
    BookingRows rows,
    CalendarConnections connections,
    GoogleAuthorization authorization,
    CalendarClientFactory clients,
    CalendarEventIds eventIds,
    CalendarEventConverger converger,
    CalendarRevocations revocations,
    CalendarRecreations recreations,
    GoogleDisclosures disclosures,
    SiteNotifier notifier,
    StorageAccount storage,
    IOptions<GoogleCalendarOptions> options,
    TimeProvider time,
    ILogger<CalendarNightlySync> logger)
{
    public async Task<CalendarSyncReport> RunAsync(CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var report = new CalendarSyncReport(0, 0, 0, 0, 0, 0, 0);
        await foreach (var connection in connections.ListConnectedAsync(cancellationToken))
        {
            var correlationId = Guid.NewGuid().ToString("N");
            try
            {
                var one = await SyncLecturerAsync(connection, correlationId, cancellationToken);
                report = report with
                {
                    Lecturers = report.Lecturers + 1,
                    ListRequests = report.ListRequests + one.ListRequests,
                    ChangedEvents = report.ChangedEvents + one.ChangedEvents,
                    Restored = report.Restored + one.Restored,
                    FullResyncs = report.FullResyncs + one.FullResyncs,
                    Revoked = report.Revoked + one.Revoked,
                    Repaired = report.Repaired + one.Repaired,
                    RepairFailed = report.RepairFailed + one.RepairFailed,
                    RestoreFailed = report.RestoreFailed + one.RestoreFailed,
                    Recreated = report.Recreated + one.Recreated,
                };
            }
            catch (Exception ex) when (ex is CalendarApiException or HttpRequestException or GoogleAuthorizationException)
            {
                // One lecturer's trouble must not stop the others; tomorrow's sync tries again.
                logger.LogWarning("Nightly calendar sync of lecturer {LecturerId} failed ({Reason})", connection.LecturerId, ex.GetType().Name);
                report = report with { Lecturers = report.Lecturers + 1, Failed = report.Failed + 1 };
            }
        }

        logger.LogInformation("Nightly calendar sync: {Lecturers} lecturer(s), {Requests} list request(s), {Changed} changed event(s), {Restored} restored ({RestoreFailed} failed), {Repaired} lagging booking(s) converged ({RepairFailed} failed), {Full} full resync(s), {Recreated} calendar(s) re-created, {Revoked} revoked, {Failed} failed",
            report.Lecturers, report.ListRequests, report.ChangedEvents, report.Restored, report.RestoreFailed, report.Repaired, report.RepairFailed, report.FullResyncs, report.Recreated, report.Revoked, report.Failed);
        return report;
    }

    /// <summary>One connected lecturer's incremental sync, as a push notification asks for it (<see cref="CalendarChangeSync"/>). Failures throw, so the queue retries.</summary>
    public Task<CalendarSyncReport> SyncConnectedAsync(CalendarConnection connection, string correlationId, CancellationToken cancellationToken = default) =>
        SyncLecturerAsync(connection, correlationId, cancellationToken);

    private async Task<CalendarSyncReport> SyncLecturerAsync(CalendarConnection connection, string correlationId, CancellationToken cancellationToken)
    {
        string accessToken;
        try
        {
            accessToken = await authorization.GetAccessTokenAsync(connection, correlationId, cancellationToken);
        }
        catch (GoogleAuthorizationException ex) when (ex.IsRevoked)
        {
            await revocations.MarkRevokedAsync(connection, correlationId, cancellationToken);
            return new CalendarSyncReport(1, 0, 0, 0, 0, 1, 0);
        }

        using var client = clients.Create(accessToken);
        // Listing names only our calendar and a cursor: no personal data leaves, so there is no ledger row.
        var context = DisclosureContext.WithoutPersonalData(disclosures.Purpose(DisclosurePolicy.PurposeIds.GoogleLessonCalendar));
        var syncToken = connection.SyncToken;
        var changed = new List<Event>();
        int requests = 0, fullResyncs = 0;
        string? pageToken = null;
        string? nextSyncToken;
        while (true)
        {
            var page = await client.ListEventsAsync(connection.CalendarId, syncToken, pageToken, context, cancellationToken);
            requests++;
            if (page.CalendarGone)
            {
                await recreations.RecreateAsync(connection, client, correlationId, cancellationToken);
                return new CalendarSyncReport(1, requests, 0, 0, fullResyncs, 0, 0, Recreated: 1);
            }

            if (page.SyncTokenExpired)
            {
                logger.LogInformation("Sync token of lecturer {LecturerId} expired (410); listing the whole calendar", connection.LecturerId);
                (syncToken, pageToken, fullResyncs) = (null, null, fullResyncs + 1);
                changed.Clear();
                continue;
            }

            changed.AddRange(page.Items);
            pageToken = page.NextPageToken;
            if (pageToken is null)
            {
                nextSyncToken = page.NextSyncToken;
                break;
            }
        }

        var bookings = new Dictionary<string, TableEntity>(StringComparer.Ordinal);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {connection.LecturerId}");
        await foreach (var row in rows.QueryAsync(filter, cancellationToken: cancellationToken))
        {
            bookings[eventIds.For(row.RowKey)] = row;
        }

        var (restoredIds, restoreFailedIds) = await RestoreAsync(connection, bookings, changed, correlationId, cancellationToken);
        await connections.SaveSyncTokenAsync(connection.LecturerId, nextSyncToken, cancellationToken);
        var (repaired, repairFailed) = await RepairLaggingAsync(connection, bookings.Values.Where(r => !restoredIds.Contains(r.RowKey) && !restoreFailedIds.Contains(r.RowKey)), correlationId, cancellationToken);
        return new CalendarSyncReport(1, requests, changed.Count, restoredIds.Count, fullResyncs, 0, 0, repaired, repairFailed, restoreFailedIds.Count);
    }

    /// <summary>
    /// Converges each upcoming booking whose row says Google lags it; a row that matches costs nothing. One booking's
    /// failure is logged and counted, and never stops the rest.
    /// </summary>
    private async Task<(int Repaired, int Failed)> RepairLaggingAsync(CalendarConnection connection, IEnumerable<TableEntity> rows, string correlationId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        int repaired = 0, failed = 0;
        foreach (var row in rows.Where(r => BookingRow.ToDesiredState(r).StartsAtUtc >= now && converger.Lags(r, connection.CalendarId)))
        {
            try
            {
                var result = await converger.ConvergeAsync(connection.LecturerId, row.RowKey, correlationId, cancellationToken);
                if (result.Outcome is EventConvergence.Created or EventConvergence.Updated or EventConvergence.Deleted)
                {
                    logger.LogInformation("Calendar event of booking {BookingId} lagged its booking (converge message lost); converged it", row.RowKey);
                    repaired++;
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                failed++;
                logger.LogWarning("Calendar repair of booking {BookingId} failed ({Error}); the next night tries again", row.RowKey, ex.GetType().Name);
            }
        }

        return (repaired, failed);
    }

    /// <summary>
    /// Restores each changed event whose booking wants something else; events that are not ours are left alone. A
    /// failed restore is logged, counted and its row's fingerprint cleared, so the next night's repair converges it
    /// although the listing (its sync token saved) will not show that event again.
    /// </summary>
    private async Task<(HashSet<string> Restored, HashSet<string> Failed)> RestoreAsync(CalendarConnection connection, Dictionary<string, TableEntity> bookings, List<Event> changed, string correlationId, CancellationToken cancellationToken)
    {
        var restored = new HashSet<string>(StringComparer.Ordinal);
        var failed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var observed in changed)
        {
            if (observed.Id is null || !bookings.TryGetValue(observed.Id, out var row))
            {
                continue;
            }

            var desired = BookingRow.ToDesiredState(row);
            var cancelled = observed.Status == CalendarEventPayload.Cancelled;
            var drifted = desired.Status switch
            {
                BookingStatus.Confirmed => cancelled || !CalendarEventPayload.Matches(observed, CalendarEventPayload.Build(desired, options.Value.EventSummary, CalendarEventColumns.ReadJoinUrl(row))),
                BookingStatus.Cancelled => !cancelled,
                _ => false,
            };
            if (drifted)
            {
                logger.LogInformation("Calendar event {EventId} of booking {BookingId} was changed in Google; restoring it", observed.Id, row.RowKey);
                var wasRestored = false;
                try
                {
                    await converger.RestoreAsync(connection.LecturerId, row.RowKey, correlationId, cancellationToken);
                    restored.Add(row.RowKey);
                    wasRestored = true;
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    failed.Add(row.RowKey);
                    logger.LogWarning("Restoring the calendar event of booking {BookingId} failed ({Error}); the next night tries again", row.RowKey, ex.GetType().Name);
                    await rows.WriteUnguardedAsync(new TableEntity(row.PartitionKey, row.RowKey) { [CalendarEventColumns.Fingerprint] = string.Empty }, cancellationToken);
                }

                if (desired.Status == BookingStatus.Confirmed)
                {
                    // The lecturer hears what was put back and why (the booking says so): ids and the kind of change only.
                    await notifier.PublishAsync(SiteNotificationTypes.ChangedOutside, new Dictionary<string, object?>
                    {
                        ["bookingId"] = desired.BookingId,
                        ["lecturerId"] = desired.LecturerId,
                        [SiteNotificationTypes.BookingVersionField] = desired.Version,
                        ["provider"] = "google",
                        ["change"] = cancelled ? "deleted" : Moved(observed, desired) ? "moved" : "edited",
                        ["restored"] = wasRestored,
                        [SiteNotificationTypes.CorrelationField] = correlationId,
                    }, cancellationToken);
                }
            }
        }

        return (restored, failed);
    }

    // Start or end not where the booking has them: the lecturer moved the event.
    private static bool Moved(Event observed, DesiredState desired) =>
        !DateTimeOffset.TryParse(observed.Start?.DateTimeRaw, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var start)
        || start != desired.StartsAtUtc
        || !DateTimeOffset.TryParse(observed.End?.DateTimeRaw, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var end)
        || end != desired.StartsAtUtc.AddMinutes(desired.DurationMinutes);
}
