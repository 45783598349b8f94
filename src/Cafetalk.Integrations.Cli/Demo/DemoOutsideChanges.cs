using System.Diagnostics;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Cli.Serving;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.Cli.Demo;

/// <summary>What the demo's hand changes became, per provider, as the lecturer was told (<c>com.cafetalk.booking.changed-outside</c>).</summary>
internal sealed record OutsideChangeCounts(
    [property: System.Text.Json.Serialization.JsonPropertyName("google")] OutsideChangeCount Google,
    [property: System.Text.Json.Serialization.JsonPropertyName("zoom")] OutsideChangeCount Zoom);

internal sealed record OutsideChangeCount(
    [property: System.Text.Json.Serialization.JsonPropertyName("seen")] int Seen,
    [property: System.Text.Json.Serialization.JsonPropertyName("restored")] int Restored);

/// <summary>
/// The demo's lecturer changes things by hand: deletes a lesson in Google Calendar (Google's push notification reaches
/// our webhook and the calendar's sync puts it back) and a meeting in Zoom's portal (Zoom's signed meeting.deleted, ids
/// as strings, and the meeting is made again). Waits until both are back.
/// </summary>
internal static class DemoOutsideChanges
{
    public static async Task RunAsync(DemoDay day, LocalFunctionsServer server, SandboxEnvironment sandbox, IServiceProvider services, Func<Task> drain, CancellationToken cancellationToken)
    {
        var bookings = services.GetRequiredService<StorageAccount>().Table(TableNames.Bookings);
        var eventIds = services.GetRequiredService<CalendarEventIds>();
        var live = day.Bookings.Where(b => !day.Cancelled.Contains(b.BookingId) && b.StudentId != DemoDay.ErasedStudent).ToList();

        // Google: the first lesson of a connected lecturer whose event is in their calendar.
        (string CalendarId, string EventId)? deleted = null;
        foreach (var (lecturer, booking, _, _) in live.Where(b => DemoDay.Lecturers.Take(2).Contains(b.LecturerId)))
        {
            var connection = await services.GetRequiredService<CalendarConnections>().FindAsync(lecturer, cancellationToken);
            var eventId = eventIds.For(booking);
            if (connection is not null && sandbox.Google.EventsOf(connection.CalendarId).Any(e => e.Id == eventId && !e.Cancelled))
            {
                sandbox.Google.DeleteByHand(connection.CalendarId, eventId);
                deleted = (connection.CalendarId, eventId);
                break;
            }
        }

        // Zoom: another lesson's meeting deleted in the portal; Zoom tells us with a signed meeting.deleted.
        long? removed = null;
        foreach (var (lecturer, booking, _, _) in live.AsEnumerable().Reverse())
        {
            var row = await bookings.GetEntityIfExistsAsync<TableEntity>(lecturer, booking, cancellationToken: cancellationToken);
            if (row.HasValue && long.TryParse(row.Value!.GetString("ZoomMeetingId"), out var meetingId) && sandbox.Zoom.RemoveMeeting(meetingId))
            {
                var body = JsonNode.Parse(sandbox.Zoom.MeetingDeletedBody(meetingId, sandbox.Settings()["Zoom:DefaultHostUserId"]!, TimeProvider.System.GetUtcNow().AddDays(1), 50))!;
                body["payload"]!["object"]!["id"] = meetingId.ToString(System.Globalization.CultureInfo.InvariantCulture);
                using var _ = await sandbox.Zoom.SendWebhookAsync(new Uri(server.BaseUrl, "api/zoom/webhook"), body.ToJsonString(), cancellationToken: cancellationToken);
                removed = meetingId;
                break;
            }
        }

        // The sync waits out the notification debounce: keep draining until both are back, or give up after a minute.
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromMinutes(1))
        {
            await sandbox.Google.WhenNotificationsSentAsync(cancellationToken: cancellationToken);
            await drain();
            var googleBack = deleted is not { } d || sandbox.Google.EventsOf(d.CalendarId).Any(e => e.Id == d.EventId && !e.Cancelled);
            var zoomBack = removed is null || await MeetingReplacedAsync(bookings, removed.Value, cancellationToken);
            if (googleBack && zoomBack)
            {
                return;
            }

            await Task.Delay(200, cancellationToken);
        }
    }

    private static async Task<bool> MeetingReplacedAsync(TableClient bookings, long removed, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"ZoomMeetingId eq {removed.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        await foreach (var _ in bookings.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            return false;
        }

        return true;
    }
}
