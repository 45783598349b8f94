using System.Security.Cryptography;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.GoogleCalendar.Api;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>What one renewal pass did, in counts.</summary>
public sealed record WatchRenewalReport(int Lecturers, int Opened, int Stopped, int Failed);

/// <summary>
/// The lifecycle of each lesson calendar's push channel (<c>events.watch</c>, allowed by our one scope
/// calendar.app.created): opened on connect, and by the renewal timer for a calendar that has none (backfill) or whose
/// channel ends within <see cref="GoogleCalendarOptions.ChannelRenewBefore"/> — a new channel first, then the old one
/// stopped, so no change falls between them; stopped on disconnect and erasure. Each channel carries a random secret
/// token we check on every notification. A watch request carries only our channel id, address, token and expiry: no
/// personal data, so no ledger row. Off while <see cref="GoogleCalendarOptions.NotificationAddress"/> is unset.
/// </summary>
public sealed class CalendarWatches(
    CalendarWatchChannels channels,
    CalendarConnections connections,
    GoogleAuthorization authorization,
    CalendarClientFactory clients,
    GoogleDisclosures disclosures,
    CalendarRevocations revocations,
    IOptions<GoogleCalendarOptions> options,
    TimeProvider time,
    ILogger<CalendarWatches> logger)
{
    public bool Enabled => options.Value.NotificationAddress is not null;

    private DisclosureContext Context => DisclosureContext.WithoutPersonalData(disclosures.Purpose(DisclosurePolicy.PurposeIds.GoogleLessonCalendar));

    /// <summary>Right after a connect: opens the calendar's channel with the fresh access token. A failure is logged; the renewal timer opens it later.</summary>
    public async Task OpenOnConnectAsync(string lecturerId, string calendarId, string accessToken, CancellationToken cancellationToken = default)
    {
        if (!Enabled)
        {
            return;
        }

        try
        {
            using var client = clients.Create(accessToken);
            await OpenAsync(client, lecturerId, calendarId, cancellationToken);
        }
        catch (Exception ex) when (ex is CalendarApiException or HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Opening the watch channel of lecturer {LecturerId} failed ({Reason}); the renewal timer tries again", lecturerId, ex.GetType().Name);
        }
    }

    /// <summary>Every connected lecturer: a channel opened where there is none or the open one ends soon, then the old one stopped.</summary>
    public async Task<WatchRenewalReport> RenewAsync(CancellationToken cancellationToken = default)
    {
        var report = new WatchRenewalReport(0, 0, 0, 0);
        if (!Enabled)
        {
            return report;
        }

        var open = new Dictionary<string, List<WatchChannel>>(StringComparer.Ordinal);
        await foreach (var channel in channels.ListAsync(cancellationToken))
        {
            (open.TryGetValue(channel.LecturerId, out var list) ? list : open[channel.LecturerId] = []).Add(channel);
        }

        var renewAt = time.GetUtcNow() + options.Value.ChannelRenewBefore;
        await foreach (var connection in connections.ListConnectedAsync(cancellationToken))
        {
            var held = open.GetValueOrDefault(connection.LecturerId) ?? [];
            // A channel on another calendar (re-created since) is stale: replaced as if it were ending.
            if (held.Any(c => c.CalendarId == connection.CalendarId && c.ExpiresAtUtc > renewAt))
            {
                report = report with { Lecturers = report.Lecturers + 1 };
                continue;
            }

            var correlationId = Guid.NewGuid().ToString("N");
            try
            {
                var token = await authorization.GetAccessTokenAsync(connection, correlationId, cancellationToken);
                using var client = clients.Create(token);
                await OpenAsync(client, connection.LecturerId, connection.CalendarId, cancellationToken);
                var stopped = 0;
                foreach (var old in held)
                {
                    stopped += await StopOneAsync(client, old, cancellationToken) ? 1 : 0;
                }

                report = report with { Lecturers = report.Lecturers + 1, Opened = report.Opened + 1, Stopped = report.Stopped + stopped };
            }
            catch (GoogleAuthorizationException ex) when (ex.IsRevoked)
            {
                await revocations.MarkRevokedAsync(connection, correlationId, cancellationToken);
                report = report with { Lecturers = report.Lecturers + 1, Failed = report.Failed + 1 };
            }
            catch (Exception ex) when (ex is CalendarApiException or HttpRequestException or GoogleAuthorizationException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // The old channel (if any) keeps running until it expires; the nightly sync is the backstop meanwhile.
                logger.LogWarning("Renewing the watch channel of lecturer {LecturerId} failed ({Reason}); the next pass tries again", connection.LecturerId, ex.GetType().Name);
                report = report with { Lecturers = report.Lecturers + 1, Failed = report.Failed + 1 };
            }
        }

        logger.LogInformation("Watch channel renewal: {Lecturers} lecturer(s), {Opened} opened, {Stopped} stopped, {Failed} failed", report.Lecturers, report.Opened, report.Stopped, report.Failed);
        return report;
    }

    /// <summary>Stops every channel of the lecturer with the given client (disconnect, erasure) and forgets them; a failed stop is logged, the channel ends at its expiry.</summary>
    public async Task<int> StopAllAsync(CalendarClient client, string lecturerId, CancellationToken cancellationToken = default)
    {
        var stopped = 0;
        foreach (var channel in await channels.ListForAsync(lecturerId, cancellationToken))
        {
            stopped += await StopOneAsync(client, channel, cancellationToken) ? 1 : 0;
        }

        await channels.DeleteLecturerAsync(lecturerId, cancellationToken);
        return stopped;
    }

    /// <summary>Forgets the lecturer's channels without asking Google (a revoked grant can stop nothing; Google ends them at expiry).</summary>
    public async Task ForgetAllAsync(string lecturerId, CancellationToken cancellationToken = default)
    {
        foreach (var channel in await channels.ListForAsync(lecturerId, cancellationToken))
        {
            await channels.DeleteAsync(channel.ChannelId, cancellationToken);
        }

        await channels.DeleteLecturerAsync(lecturerId, cancellationToken);
    }

    private async Task OpenAsync(CalendarClient client, string lecturerId, string calendarId, CancellationToken cancellationToken)
    {
        var requested = time.GetUtcNow() + options.Value.ChannelLifetime;
        var channel = new Channel
        {
            // Random: the id names no lecturer, and the token is the secret only Google and we hold.
            Id = Guid.NewGuid().ToString("N"),
            Type = "web_hook",
            Address = options.Value.NotificationAddress!.ToString(),
            Token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            Expiration = requested.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        // Stored before Google answers: Google posts the sync message at once, and it must find the channel.
        await channels.AddAsync(new WatchChannel(channel.Id, lecturerId, calendarId, string.Empty, channel.Token, requested), cancellationToken);
        Channel granted;
        try
        {
            granted = await client.WatchEventsAsync(calendarId, channel, Context, cancellationToken);
        }
        catch
        {
            await channels.DeleteAsync(channel.Id, CancellationToken.None);
            throw;
        }

        // Google may grant less than asked: its expiration is the one we renew against.
        var expires = long.TryParse(granted.Expiration, System.Globalization.CultureInfo.InvariantCulture, out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : requested;
        await channels.AddAsync(new WatchChannel(channel.Id, lecturerId, calendarId, granted.ResourceId ?? string.Empty, channel.Token, expires), cancellationToken);
        logger.LogInformation("Watch channel {ChannelId} opened on the calendar of lecturer {LecturerId}, until {ExpiresAtUtc:O}", channel.Id, lecturerId, expires);
    }

    private async Task<bool> StopOneAsync(CalendarClient client, WatchChannel channel, CancellationToken cancellationToken)
    {
        try
        {
            await client.StopChannelAsync(channel.ChannelId, channel.ResourceId, Context, cancellationToken);
            logger.LogInformation("Watch channel {ChannelId} of lecturer {LecturerId} stopped", channel.ChannelId, channel.LecturerId);
            await channels.DeleteAsync(channel.ChannelId, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is CalendarApiException or HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // Its notifications still arrive until it expires; they are answered and cost one sync at most.
            logger.LogWarning("Stopping watch channel {ChannelId} of lecturer {LecturerId} failed ({Reason})", channel.ChannelId, channel.LecturerId, ex.GetType().Name);
            await channels.DeleteAsync(channel.ChannelId, cancellationToken);
            return false;
        }
    }
}
