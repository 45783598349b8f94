using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;

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
public sealed class VimeoErasureStep(Vimeo.RecordingDeleter recordings, TimeProvider time) : IErasureStep
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
/// read as cancelled); a lecturer's connection is ended: calendar deleted, grant revoked, token deleted.
/// </summary>
public sealed class GoogleCalendarErasureStep(
    GoogleCalendar.CalendarEventConverger converger,
    GoogleCalendar.CalendarConnections connections,
    GoogleCalendar.CalendarDisconnection disconnection,
    TimeProvider time) : IErasureStep
{
    public string Provider => "google";

    public async Task<ErasureStep> EraseAsync(ErasureScope scope, CancellationToken cancellationToken)
    {
        var deleted = 0;
        foreach (var (lecturerId, bookingId) in scope.Bookings)
        {
            var result = await converger.ConvergeAsync(lecturerId, bookingId, scope.CorrelationId, cancellationToken);
            deleted += result.Outcome == GoogleCalendar.EventConvergence.Deleted ? 1 : 0;
        }

        var connection = await connections.FindAsync(scope.MemberId, cancellationToken);
        if (connection is not null)
        {
            await disconnection.DisconnectAsync(connection, scope.CorrelationId, cancellationToken);
        }

        return new ErasureStep(Provider, connection is null ? "lesson events deleted" : "lesson events deleted; calendar deleted and grant revoked",
            deleted + (connection is null ? 0 : 1), ErasureStep.Done, time.GetUtcNow(), "events.delete, calendars.delete, oauth2 revoke");
    }
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
