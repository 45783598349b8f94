using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Zoom;

/// <summary>
/// Zoom's per-second budget for the account (<c>Zoom:RequestsPerSecond</c> less <c>Zoom:RateBudgetHeadroom</c>),
/// shared by every instance through table <c>ProviderRateBudget</c> (PartitionKey <c>zoom</c>). One per process,
/// in the pipeline of both <see cref="ZoomClient"/> and <see cref="ZoomRecordingsClient"/>.
/// </summary>
public sealed class ZoomRateBudget : SharedRateBudget
{
    public const string Provider = "zoom";

    public ZoomRateBudget(StorageAccount storage, IOptions<ZoomOptions> options, ILogger<ZoomRateBudget> logger, TimeProvider clock)
        : base(storage, OptionsFrom(options.Value), logger, clock)
    {
    }

    internal static SharedRateBudgetOptions OptionsFrom(ZoomOptions zoom) => new()
    {
        Provider = Provider,
        RequestsPerSecond = zoom.RequestsPerSecond,
        Headroom = zoom.RateBudgetHeadroom,
        BlockSize = zoom.RateBudgetBlockSize,
        FallbackInstances = zoom.RateBudgetFallbackInstances,
    };
}
