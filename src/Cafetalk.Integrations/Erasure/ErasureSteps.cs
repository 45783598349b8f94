using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Recordings;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Erasure;

/// <summary>Zoom: the member's meetings are deleted by the meeting converger, which now sees their bookings as cancelled.</summary>
public sealed class ZoomErasureStep(MeetingConverger converger, TimeProvider time) : IErasureStep
{
    public string Provider => "zoom";

    public async Task<ErasureStep> EraseAsync(ErasureScope scope, CancellationToken cancellationToken)
    {
        var deleted = 0;
        foreach (var (lecturerId, bookingId) in scope.Bookings)
        {
            var result = await converger.ConvergeAsync(lecturerId, bookingId, scope.CorrelationId, cancellationToken);
            if (result.Outcome == MeetingConvergence.Deferred)
            {
                throw new ErasureDeferredException(Provider);
            }

            deleted += result.Outcome == MeetingConvergence.Deleted ? 1 : 0;
        }

        return new ErasureStep(Provider, "meetings deleted", deleted, ErasureStep.Done, time.GetUtcNow(), "DELETE /v2/meetings/{id}");
    }
}

/// <summary>
/// Newsletter: a subscribed member is suppressed at the mail service first (the law requires that an opt-out
/// keeps holding), then our subscription rows, sealed email and consent history are deleted.
/// </summary>
public sealed class NewsletterErasureStep(NewsletterSubscriptionStore store, UnsubscribeLinks links, MailSuppressionSync sync, TimeProvider time) : IErasureStep
{
    public string Provider => "mail";

    public async Task<ErasureStep> EraseAsync(ErasureScope scope, CancellationToken cancellationToken)
    {
        if (scope.SubjectRef is null)
        {
            return new ErasureStep(Provider, "no subscription", 0, ErasureStep.Done, time.GetUtcNow(), "table NewsletterSubscriptions");
        }

        var subscriptions = await store.ListForSubjectAsync(scope.SubjectRef, cancellationToken);
        foreach (var subscription in subscriptions)
        {
            if (subscription.Status == SubscriptionStatus.Subscribed)
            {
                var (_, unsubscribed) = await store.SetStatusAsync(subscription.SubjectRef, subscription.List, SubscriptionStatus.Unsubscribed, ConsentSources.Erasure, null, cancellationToken);
                await sync.SyncAsync(unsubscribed ?? subscription with { Status = SubscriptionStatus.Unsubscribed }, scope.CorrelationId, cancellationToken);
            }
            else
            {
                await sync.SyncAsync(subscription, scope.CorrelationId, cancellationToken);
            }
        }

        var deleted = await store.DeleteAllAsync(scope.SubjectRef, cancellationToken);
        var linksDeleted = await links.DeleteAllAsync(scope.SubjectRef, cancellationToken);
        return new ErasureStep(Provider, "subscription deleted; address kept only in the suppression group", subscriptions.Count, ErasureStep.Done, time.GetUtcNow(),
            $"{deleted} rows deleted from table NewsletterSubscriptions, {linksDeleted} unsubscribe links from table UnsubscribeLinks");
    }
}

/// <summary>Vimeo (and Zoom's cloud copies): every recording of a lesson the member took part in, and a lecturer's folder.</summary>
public sealed class VimeoErasureStep(Recordings.RecordingDeleter recordings, TimeProvider time) : IErasureStep
{
    public string Provider => "vimeo";

    public async Task<ErasureStep> EraseAsync(ErasureScope scope, CancellationToken cancellationToken)
    {
        var erased = await recordings.DeleteRecordingsOfMemberAsync(scope.MemberId, cancellationToken);
        return new ErasureStep(Provider, "recordings deleted", erased.VideosDeleted + erased.ZoomCopiesDeleted, ErasureStep.Done, time.GetUtcNow(),
            $"{erased.VideosDeleted} Vimeo videos, {erased.ZoomCopiesDeleted} Zoom cloud copies, folder {(erased.FolderDeleted ? "deleted" : "none")}");
    }
}

/// <summary>
/// Google Calendar: the lesson events of the member's bookings are deleted by the event converger (the bookings now
/// read as cancelled); a lecturer's connection is ended: calendar deleted, then grant revoked, then token deleted.
/// What cannot be removed (the lecturer revoked our access, so their calendar is out of reach; or Google failing) keeps
/// the step failed with the reason on the receipt, and logs <see cref="Blocked"/> at Error for the erasure-blocked alert.
/// </summary>
public sealed class GoogleCalendarErasureStep(
    GoogleCalendar.CalendarEventConverger converger,
    GoogleCalendar.CalendarConnections connections,
    GoogleCalendar.CalendarDisconnection disconnection,
    Bookings.BookingRows rows,
    TimeProvider time,
    ILogger<GoogleCalendarErasureStep> logger) : IErasureStep
{
    /// <summary>The log event infra/app/alerts.bicep (erasure-blocked) fires on; its message starts with <see cref="BlockedMessagePrefix"/>.</summary>
    public static readonly EventId Blocked = new(4601, "ErasureBlockedAtGoogle");

    public const string BlockedMessagePrefix = "Erasure blocked at Google";

    public string Provider => "google";

    public async Task<ErasureStep> EraseAsync(ErasureScope scope, CancellationToken cancellationToken)
    {
        var reasons = new List<string>();
        int deleted = 0, unreachable = 0, failing = 0;
        string? failure = null;
        foreach (var (lecturerId, bookingId) in scope.Bookings)
        {
            try
            {
                var result = await converger.ConvergeAsync(lecturerId, bookingId, scope.CorrelationId, cancellationToken);
                if (result.Outcome == GoogleCalendar.EventConvergence.Deleted)
                {
                    deleted++;
                }
                else if (await StillAtGoogleAsync(lecturerId, bookingId, cancellationToken))
                {
                    // Not connected any more (revoked) while the row says the event is in the lecturer's calendar.
                    unreachable++;
                }
            }
            catch (Exception ex) when (IsGoogleFailure(ex, cancellationToken))
            {
                failing++;
                failure = Describe(ex);
            }
        }

        if (unreachable > 0)
        {
            reasons.Add($"{unreachable} lesson event(s) left in a calendar whose Google grant is revoked");
        }

        if (failing > 0)
        {
            reasons.Add($"{failing} lesson event(s) not deleted: Google failed ({failure}); retried later");
        }

        var connection = await connections.FindAsync(scope.MemberId, cancellationToken);
        var ended = false;
        if (connection is not null)
        {
            try
            {
                await disconnection.DisconnectAsync(connection, scope.CorrelationId, cancellationToken);
                ended = true;
            }
            catch (GoogleCalendar.CalendarRemovalException ex)
            {
                reasons.Add(ex.Failure == GoogleCalendar.CalendarRemovalFailure.GrantRevoked
                    ? "Google grant revoked: the Cafetalk calendar and its events stay in the lecturer's Google account, out of our reach; grant and token kept until resolved"
                    : $"Cafetalk calendar not deleted: Google failed ({ex.Detail}); grant not revoked, retried later");
            }
            catch (Exception ex) when (IsGoogleFailure(ex, cancellationToken))
            {
                reasons.Add($"calendar deleted but the revocation was not confirmed ({Describe(ex)}); retried later");
            }
        }

        if (reasons.Count > 0)
        {
            var reason = string.Join("; ", reasons);
            logger.LogError(Blocked, BlockedMessagePrefix + " for erasure {CorrelationId}: {Reason}. The receipt stays pending", scope.CorrelationId, reason);
            return new ErasureStep(Provider, "erase", deleted, ErasureStep.Failed, time.GetUtcNow(), reason);
        }

        return new ErasureStep(Provider, ended ? "lesson events deleted; calendar deleted and grant revoked" : "lesson events deleted",
            deleted + (ended ? 1 : 0), ErasureStep.Done, time.GetUtcNow(), "events.delete, calendars.delete, oauth2 revoke");
    }

    /// <summary>Whether the booking's row still says its event lives in the calendar of the lecturer's stored connection.</summary>
    private async Task<bool> StillAtGoogleAsync(string lecturerId, string bookingId, CancellationToken cancellationToken)
    {
        var row = await rows.ReadAsync(lecturerId, bookingId, cancellationToken);
        var connection = row is not null ? await connections.FindAsync(lecturerId, cancellationToken) : null;
        // No connection: disconnected, and the disconnect deleted the calendar. Another calendar id: a reconnect deleted the old one.
        return connection is not null && GoogleCalendar.CalendarEventColumns.Read(row!.Row).IsLiveIn(connection.CalendarId);
    }

    private static bool IsGoogleFailure(Exception ex, CancellationToken cancellationToken) =>
        ex is GoogleCalendar.CalendarApiException or GoogleCalendar.GoogleAuthorizationException or HttpRequestException
        || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested);

    private static string Describe(Exception ex) =>
        ex is GoogleCalendar.CalendarApiException api ? $"{api.Operation} answered HTTP {(int)api.Status}" : ex.GetType().Name;
}

/// <summary>
/// Our own tables that name the member by id and hold nothing a provider must delete: the lecturer's Zoom host
/// assignment (<c>ZoomHosts</c>) and any Google consent still in progress (<c>CalendarConnectStates</c>).
/// </summary>
public sealed class StoredIdsErasureStep(StorageAccount storage, TimeProvider time) : IErasureStep
{
    public string Provider => "storage";

    public async Task<ErasureStep> EraseAsync(ErasureScope scope, CancellationToken cancellationToken)
    {
        var deleted = 0;
        var hosts = storage.Table(TableNames.ZoomHosts);
        await foreach (var row in hosts.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {scope.MemberId}"), select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            deleted += await DeleteAsync(hosts, row, cancellationToken);
        }

        // States live minutes; the filter scans a small table.
        var states = storage.Table(TableNames.CalendarConnectStates);
        await foreach (var row in states.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"LecturerId eq {scope.MemberId}"), select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            deleted += await DeleteAsync(states, row, cancellationToken);
        }

        return new ErasureStep(Provider, "rows naming the member deleted", deleted, ErasureStep.Done, time.GetUtcNow(), "tables ZoomHosts, CalendarConnectStates");
    }

    private static async Task<int> DeleteAsync(TableClient table, TableEntity row, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
            return 1;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return 0;
        }
    }
}
