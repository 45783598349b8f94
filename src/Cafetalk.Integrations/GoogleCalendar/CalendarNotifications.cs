using System.Security.Cryptography;
using System.Text;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>What became of one Google push notification.</summary>
public enum CalendarNotificationOutcome
{
    /// <summary>A change: the calendar's sync is queued.</summary>
    Queued,
    /// <summary>A change while a sync already queued has not started: that sync will see it.</summary>
    Debounced,
    /// <summary>The <c>sync</c> message Google sends when a channel opens: nothing changed.</summary>
    Ignored,
    /// <summary>Unknown channel, wrong token or resource: answered alike, so a caller learns nothing of which.</summary>
    Refused,
    /// <summary>A required header is missing or malformed.</summary>
    BadRequest,
}

/// <summary>The headers of one notification as Google sends them (the body is empty).</summary>
public sealed record CalendarNotification(string? ChannelId, string? ChannelToken, string? ResourceId, string? ResourceState, string? MessageNumber)
{
    public const string ChannelIdHeader = "X-Goog-Channel-ID";
    public const string ChannelTokenHeader = "X-Goog-Channel-Token";
    public const string ResourceIdHeader = "X-Goog-Resource-ID";
    public const string ResourceStateHeader = "X-Goog-Resource-State";
    public const string MessageNumberHeader = "X-Goog-Message-Number";

    /// <summary>No token in the default text.</summary>
    public override string ToString() => $"CalendarNotification {{ ChannelId = {ChannelId}, ResourceState = {ResourceState}, MessageNumber = {MessageNumber} }}";
}

/// <summary>
/// <c>POST /api/google/calendar-notifications</c>: checks a notification against the channel we opened (id, then the
/// secret token compared in constant time, then the resource id), answers fast, and queues the lecturer's sync on
/// <c>calendar-changes</c> with a delay, once per burst (<see cref="CalendarWatchChannels.TryRequestSyncAsync"/>).
/// The <c>sync</c> message is ignored. Nothing from the request is logged but the channel id and the state.
/// </summary>
public sealed class CalendarNotifications(CalendarWatchChannels channels, StorageAccount storage, IOptions<GoogleCalendarOptions> options, TimeProvider time, ILogger<CalendarNotifications> logger)
{
    public const string Route = "google/calendar-notifications";

    /// <summary>Google sends headers and no body; anything larger than this is refused before any work.</summary>
    public const int MaxBodyBytes = 1024;

    public async Task<CalendarNotificationOutcome> ReceiveAsync(CalendarNotification notification, CancellationToken cancellationToken = default)
    {
        if (!IsChannelId(notification.ChannelId) || notification.ResourceState is not ("sync" or "exists" or "not_exists") || string.IsNullOrEmpty(notification.ResourceId))
        {
            return CalendarNotificationOutcome.BadRequest;
        }

        await storage.EnsureProvisionedAsync(cancellationToken);
        var channel = await channels.FindAsync(notification.ChannelId!, cancellationToken);
        if (channel is null || !SameSecret(channel.Token, notification.ChannelToken) || (channel.ResourceId.Length > 0 && channel.ResourceId != notification.ResourceId))
        {
            logger.LogWarning("Calendar notification for channel {ChannelId} refused: unknown channel, wrong token or resource", notification.ChannelId);
            return CalendarNotificationOutcome.Refused;
        }

        if (notification.ResourceState == "sync")
        {
            return CalendarNotificationOutcome.Ignored;
        }

        if (!await channels.TryRequestSyncAsync(channel.LecturerId, time.GetUtcNow(), cancellationToken))
        {
            return CalendarNotificationOutcome.Debounced;
        }

        await storage.Queue(QueueNames.CalendarChanges).SendMessageAsync(new CalendarChangeRequest(channel.LecturerId).ToJson(),
            visibilityTimeout: options.Value.NotificationDebounce, cancellationToken: cancellationToken);
        logger.LogInformation("Calendar of lecturer {LecturerId} changed (channel {ChannelId}, message {MessageNumber}); its sync is queued", channel.LecturerId, channel.ChannelId, notification.MessageNumber);
        return CalendarNotificationOutcome.Queued;
    }

    private static bool SameSecret(string expected, string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(presented)));

    // Google allows [A-Za-z0-9-_+/=] up to 64; ours are hex, and '/' could not be a table key anyway.
    private static bool IsChannelId(string? id) =>
        id is { Length: > 0 and <= 64 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
