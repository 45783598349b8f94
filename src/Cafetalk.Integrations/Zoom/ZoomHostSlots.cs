using System.Globalization;

namespace Cafetalk.Integrations.Zoom;

/// <summary>
/// The 5-minute slots a lesson holds on its pool host: from its start (rounded down) to its end plus the lesson gap
/// (rounded up). Two lessons on one host lane conflict exactly when they share a slot.
/// </summary>
public static class ZoomHostSlots
{
    public static readonly TimeSpan Length = TimeSpan.FromMinutes(5);

    /// <summary>The slot keys (<c>yyyyMMddHHmm</c>, UTC, so they sort as time) of a lesson, in order.</summary>
    public static IReadOnlyList<string> For(DateTimeOffset startsAtUtc, int durationMinutes, TimeSpan gap)
    {
        var first = Floor(startsAtUtc.ToUniversalTime());
        var end = startsAtUtc.ToUniversalTime().AddMinutes(durationMinutes) + gap;
        var slots = new List<string>();
        for (var slot = first; slot < end; slot += Length)
        {
            slots.Add(Key(slot));
        }

        return slots;
    }

    public static string Key(DateTimeOffset slotUtc) => slotUtc.UtcDateTime.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture);

    private static DateTimeOffset Floor(DateTimeOffset value) => new(value.UtcTicks - (value.UtcTicks % Length.Ticks), TimeSpan.Zero);
}
