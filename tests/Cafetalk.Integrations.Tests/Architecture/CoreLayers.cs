namespace Cafetalk.Integrations.Tests.Architecture;

/// <summary>One layer of the core: folders that may use their own types and those of every lower layer, never each other's.</summary>
internal sealed record Layer(string Name, IReadOnlyList<string> Folders);

/// <summary>
/// The core's layers, lowest first: the one place they are named (README "Layers" and docs/adding-a-provider.md link
/// here). A folder of src/Cafetalk.Integrations that is in no layer fails <see cref="CoreLayerTests"/>.
/// </summary>
internal static class CoreLayers
{
    /// <summary>The files at the project's root (the composition root that registers every folder).</summary>
    public const string Root = "";

    public static readonly IReadOnlyList<Layer> Order =
    [
        new("storage", ["Storage"]),
        new("plumbing", ["Telemetry", "Http"]),
        new("disclosure", ["Disclosure"]),
        new("bookings", ["Bookings"]),
        new("providers", ["Zoom", "GoogleCalendar", "Vimeo", "Newsletter"]),
        new("recording archive", ["Recordings"]),
        new("erasure", ["Erasure"]),
        new("operations", ["Operations"]),
        new("composition", [Root]),
    ];

    /// <summary>The index of the layer <paramref name="folder"/> is in, or -1.</summary>
    public static int RankOf(string folder)
    {
        for (var i = 0; i < Order.Count; i++)
        {
            if (Order[i].Folders.Contains(folder))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Why <paramref name="from"/> may not use <paramref name="to"/>, or null when it may.</summary>
    public static string? Forbids(string from, string to)
    {
        if (from == to)
        {
            return null;
        }

        var (fromRank, toRank) = (RankOf(from), RankOf(to));
        if (fromRank < 0 || toRank < 0)
        {
            return $"'{(fromRank < 0 ? from : to)}' is in no layer of CoreLayers.Order";
        }

        return fromRank == toRank ? $"'{from}' and '{to}' are both {Order[fromRank].Name}: neither may use the other"
            : fromRank < toRank ? $"{Order[fromRank].Name} '{from}' may not use {Order[toRank].Name} '{to}' (a higher layer)"
            : null;
    }
}
