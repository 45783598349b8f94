namespace Cafetalk.Integrations.Zoom;

/// <summary>A pool host as placement sees it: its allowance used today and which booking holds each (lane, slot) near the lesson.</summary>
public sealed record ZoomHostLoad(ZoomPoolHost Host, int UsedToday, IReadOnlyDictionary<(int Lane, string Slot), string> Taken)
{
    public int Headroom => Host.DailyCreateUpdateLimit - UsedToday;
}

/// <summary>The lesson to place: its slots, and the host and lane its meeting is on now (null for a new one).</summary>
public sealed record ZoomPlacementRequest(string BookingId, IReadOnlyList<string> Slots, string? CurrentHostId = null, int? CurrentLane = null);

/// <summary>The chosen pool host and lane (0-based, below the host's concurrency).</summary>
public sealed record ZoomHostChoice(string HostId, int Lane);

/// <summary>
/// Chooses a pool host for a lesson, without I/O. A host fits when one of its lanes has every slot of the lesson free
/// (or already held by this booking) and it has a create/update left today. The choice is stable: the meeting's
/// current host when it still fits, else a host where this booking already holds slots (a converge that lost a race),
/// else a fitting host among those with the most of today's allowance left (within <see cref="SpreadBand"/> of the
/// most), so creates spread over the pool before any host nears its daily limit; among those, the one a hash of the
/// booking and host ranks first: repeatable for a booking, and concurrent placements of different bookings pick
/// different hosts instead of racing for one. Null when no host fits.
/// </summary>
public static class ZoomHostPlacement
{
    /// <summary>Hosts whose allowance left is this close to the most are equally good: the hash picks among them.</summary>
    public const int SpreadBand = 10;

    public static ZoomHostChoice? Choose(IReadOnlyList<ZoomHostLoad> pool, ZoomPlacementRequest request)
    {
        if (request.CurrentHostId is { } current && pool.FirstOrDefault(h => h.Host.HostId == current) is { } currentLoad
            && FittingLane(currentLoad, request, request.CurrentLane) is { } keptLane)
        {
            return new ZoomHostChoice(current, keptLane);
        }

        var held = pool.FirstOrDefault(h => h.Taken.Any(t => t.Value == request.BookingId && request.Slots.Contains(t.Key.Slot))
            && FittingLane(h, request, LaneHeldBy(h, request)) is not null);
        if (held is not null)
        {
            return new ZoomHostChoice(held.Host.HostId, FittingLane(held, request, LaneHeldBy(held, request))!.Value);
        }

        var fitting = pool.Where(h => FittingLane(h, request, null) is not null).ToList();
        if (fitting.Count == 0)
        {
            return null;
        }

        var most = fitting.Max(h => h.Headroom);
        var best = fitting
            .Where(h => h.Headroom >= most - SpreadBand)
            .OrderByDescending(h => Rank(request.BookingId, h.Host.HostId))
            .ThenBy(h => h.Host.HostId, StringComparer.Ordinal)
            .First();
        return new ZoomHostChoice(best.Host.HostId, FittingLane(best, request, null)!.Value);
    }

    /// <summary>Rendezvous hashing: a stable pseudo-random rank of a host for a booking.</summary>
    private static ulong Rank(string bookingId, string hostId) =>
        BitConverter.ToUInt64(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(bookingId + "\n" + hostId)), 0);

    /// <summary>Whether <paramref name="lane"/> of the host has every slot free or held by this booking.</summary>
    public static bool LaneFits(ZoomHostLoad load, ZoomPlacementRequest request, int lane) =>
        lane >= 0 && lane < load.Host.Concurrency
        && request.Slots.All(slot => !load.Taken.TryGetValue((lane, slot), out var holder) || holder == request.BookingId);

    /// <summary>The preferred lane when it fits, else the lowest that does; null when the host is out of allowance or full.</summary>
    private static int? FittingLane(ZoomHostLoad load, ZoomPlacementRequest request, int? preferred)
    {
        if (load.Headroom <= 0)
        {
            return null;
        }

        if (preferred is { } lane && LaneFits(load, request, lane))
        {
            return lane;
        }

        for (var candidate = 0; candidate < load.Host.Concurrency; candidate++)
        {
            if (LaneFits(load, request, candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static int? LaneHeldBy(ZoomHostLoad load, ZoomPlacementRequest request) =>
        load.Taken.Where(t => t.Value == request.BookingId && request.Slots.Contains(t.Key.Slot)).Select(t => (int?)t.Key.Lane).FirstOrDefault();
}
