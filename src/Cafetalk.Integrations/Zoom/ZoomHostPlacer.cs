using Cafetalk.Integrations.Bookings;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Zoom;

/// <summary>How placing a lesson on the host pool ended.</summary>
public enum ZoomHostPlacementStatus
{
    /// <summary>The pool is empty: the lesson goes on <c>Zoom:DefaultHostUserId</c> as before the pool existed.</summary>
    NoPool,
    Placed,
    /// <summary>Every pool host is busy at that time or out of today's allowance.</summary>
    NoFreeHost,
}

/// <summary>The outcome of a placement: the host and lane when <see cref="Status"/> is <see cref="ZoomHostPlacementStatus.Placed"/>.</summary>
public sealed record ZoomHostPlacementResult(ZoomHostPlacementStatus Status, string? HostId = null, int Lane = -1);

/// <summary>
/// Places a lesson of a lecturer without their own Zoom user on a pool host: reads the pool, each host's allowance
/// used today (<see cref="ZoomDailyLimit"/>) and its reservations around the lesson, lets <see cref="ZoomHostPlacement"/>
/// choose, then reserves the slots (insert-if-absent; a lost race chooses again).
/// </summary>
public sealed class ZoomHostPlacer(
    ZoomHostPool pool,
    ZoomHostReservations reservations,
    ZoomDailyLimit dailyLimit,
    SiteNotifier notifier,
    IOptions<ZoomOptions> options,
    TimeProvider time,
    ILogger<ZoomHostPlacer> logger)
{
    public const int MaxAttempts = 8;

    public async Task<ZoomHostPlacementResult> PlaceAsync(string bookingId, DateTimeOffset startsAtUtc, int durationMinutes,
        string? currentHostId, int? currentLane, CancellationToken cancellationToken = default)
    {
        var hosts = await pool.ListAsync(cancellationToken);
        if (hosts.Count == 0)
        {
            return new ZoomHostPlacementResult(ZoomHostPlacementStatus.NoPool);
        }

        var slots = Slots(startsAtUtc, durationMinutes);
        var request = new ZoomPlacementRequest(bookingId, slots, currentHostId, currentLane);
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var loads = new List<ZoomHostLoad>(hosts.Count);
            foreach (var host in hosts)
            {
                loads.Add(new ZoomHostLoad(host, await dailyLimit.UsedTodayAsync(host.HostId, cancellationToken),
                    await reservations.ReadAsync(host, slots[0], slots[^1], cancellationToken)));
            }

            if (ZoomHostPlacement.Choose(loads, request) is not { } choice)
            {
                logger.LogWarning("No pool host is free for booking {BookingId} at {StartsAtUtc:O} ({Hosts} hosts)", bookingId, startsAtUtc, hosts.Count);
                return new ZoomHostPlacementResult(ZoomHostPlacementStatus.NoFreeHost);
            }

            var seen = loads.First(l => l.Host.HostId == choice.HostId).Taken;
            if (await reservations.TryReserveAsync(choice.HostId, choice.Lane, bookingId, slots, seen, cancellationToken))
            {
                return new ZoomHostPlacementResult(ZoomHostPlacementStatus.Placed, choice.HostId, choice.Lane);
            }

            // Another placement took a slot between our read and our insert: read again and choose again.
        }

        throw new ZoomHostReservationContentionException(bookingId, MaxAttempts);
    }

    /// <summary>Frees what a booking held for its old time on <paramref name="hostId"/>, keeping the slots its new time still uses on the same lane.</summary>
    public Task ReleaseAsync(string hostId, int lane, string bookingId, DateTimeOffset startsAtUtc, int durationMinutes,
        IReadOnlyCollection<string>? keep = null, CancellationToken cancellationToken = default) =>
        reservations.ReleaseAsync(hostId, lane, bookingId, Slots(startsAtUtc, durationMinutes), keep, cancellationToken);

    /// <summary>
    /// No pool host is free: the site hears it (a provider problem, while there is time to act; same id on every retry,
    /// so it is one notification to the site) and the converge is tried again after <c>Zoom:NoFreeHostRetryDelay</c>.
    /// </summary>
    public async Task<DateTimeOffset> NoFreeHostAsync(DesiredState desired, bool created, string correlationId, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        await notifier.PublishAsync(SiteNotificationTypes.ProviderProblem, new Dictionary<string, object?>
        {
            ["bookingId"] = desired.BookingId,
            ["lecturerId"] = desired.LecturerId,
            [SiteNotificationTypes.BookingVersionField] = desired.Version,
            ["provider"] = "zoom",
            ["problem"] = created ? "not-created" : "not-updated",
            ["minutesBeforeLesson"] = (int)Math.Max(0, Math.Floor((desired.StartsAtUtc - now).TotalMinutes)),
            [SiteNotificationTypes.CorrelationField] = correlationId,
        }, cancellationToken);
        return now + options.Value.NoFreeHostRetryDelay;
    }

    public IReadOnlyList<string> Slots(DateTimeOffset startsAtUtc, int durationMinutes) =>
        ZoomHostSlots.For(startsAtUtc, durationMinutes, options.Value.LessonGap);
}
