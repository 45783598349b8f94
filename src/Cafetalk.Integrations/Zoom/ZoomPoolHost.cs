namespace Cafetalk.Integrations.Zoom;

/// <summary>
/// One Zoom user of the host pool: lessons of lecturers without their own Zoom user are placed on it.
/// <paramref name="Concurrency"/> is how many meetings it may run at once (Zoom: 1 on Pro, 2 on Business and above);
/// <paramref name="DailyCreateUpdateLimit"/> its creates/updates per UTC day.
/// </summary>
public sealed record ZoomPoolHost(string HostId, int Concurrency, int DailyCreateUpdateLimit)
{
    /// <summary>Zoom lets a licensed user on a Business, Education or Enterprise account host at most 2 meetings at once.</summary>
    public const int MaxConcurrency = 2;
}
