using System.Text.Json;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Http;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>The site's disconnect, as plain inputs in and <see cref="FlowOutcome"/>s out: the calendar deleted, the grant revoked, the row removed.</summary>
public sealed class CalendarDisconnectFlow(
    CalendarConnections connections,
    CalendarDisconnection disconnection,
    StorageAccount storage,
    ILogger<CalendarDisconnectFlow> logger)
{
    public const string DisconnectRoute = "calendar/disconnect";

    /// <summary><c>{"lecturerId": "…"}</c> is a few dozen bytes; this leaves room and nothing more.</summary>
    public const int MaxDisconnectBodyBytes = 4 * 1024;

    /// <summary>POST disconnect from the site: <c>{"lecturerId": "…"}</c> → the calendar deleted, the grant revoked, the row removed.</summary>
    public async Task<FlowOutcome> DisconnectAsync(BodyRead read, CancellationToken cancellationToken = default)
    {
        if (read.Refusal(MaxDisconnectBodyBytes) is { } refused)
        {
            return Problem(refused.Status, refused.Type, refused.Detail);
        }

        string? lecturerId;
        try
        {
            // A UTF-8 byte order mark before JSON is allowed to be ignored (RFC 8259 §8.1); the reader would refuse it.
            var bytes = read.Bytes.Span.StartsWith("\uFEFF"u8) ? read.Bytes[3..] : read.Bytes;
            using var body = JsonDocument.Parse(bytes);
            lecturerId = body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("lecturerId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a string System.Text.Json cannot return as text ("\ud800" escapes an unpaired surrogate).
            lecturerId = null;
        }

        if (!TableKeys.IsValidId(lecturerId))
        {
            return Problem(400, "bad-body", "Send {\"lecturerId\": \"...\"} as JSON.");
        }

        await storage.EnsureProvisionedAsync(cancellationToken);
        CalendarConnection? connection;
        try
        {
            connection = await connections.FindAsync(lecturerId!, cancellationToken);
        }
        catch (FieldProtectionException)
        {
            logger.LogError("Calendar connection of lecturer {LecturerId} does not open for its row; nothing was changed", lecturerId);
            return Problem(409, "connection-unreadable", "The stored authorization does not belong to this lecturer's row; nothing was changed.");
        }

        if (connection is null)
        {
            return new FlowOutcome.Answer(200, new { status = "not-connected" });
        }

        var correlationId = Guid.NewGuid().ToString("N");
        try
        {
            await disconnection.DisconnectAsync(connection, correlationId, cancellationToken);
        }
        catch (CalendarRemovalException ex) when (ex.Failure == CalendarRemovalFailure.GrantRevoked)
        {
            // The lecturer withdrew our access at Google: their calendar is out of our reach; forget the dead grant.
            try
            {
                await disconnection.ForgetRevokedAsync(connection, correlationId, cancellationToken);
            }
            catch (Exception revokeFailure) when (revokeFailure is GoogleAuthorizationException or HttpRequestException)
            {
                return Problem(502, "revoke-failed", "Google did not confirm the revocation; nothing was deleted. Try again.");
            }

            return new FlowOutcome.Answer(200, new { status = "disconnected", calendar = "left-in-google-account" });
        }
        catch (CalendarRemovalException)
        {
            return Problem(502, "calendar-delete-failed", "Google did not delete the Cafetalk calendar; nothing was revoked or deleted. Try again.");
        }
        catch (Exception ex) when (ex is GoogleAuthorizationException or HttpRequestException)
        {
            return Problem(502, "revoke-failed", "Google did not confirm the revocation; the calendar is deleted, the connection is kept. Try again.");
        }

        return new FlowOutcome.Answer(200, new { status = "disconnected" });
    }

    private static FlowOutcome.Refused Problem(int status, string type, string detail) =>
        new(status, new FlowProblem("https://cafetalk.com/problems/calendar/" + type, "Calendar request refused", detail));
}
