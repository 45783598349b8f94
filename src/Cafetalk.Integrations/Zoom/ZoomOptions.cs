using Cafetalk.Integrations.Storage;
using System.ComponentModel.DataAnnotations;

namespace Cafetalk.Integrations.Zoom;

/// <summary>Settings of section <c>Zoom</c>: the Server-to-Server OAuth app, the limits we plan for and the webhook secret.</summary>
public sealed class ZoomOptions : ProviderRetryOptions
{
    public const string SectionName = "Zoom";

    /// <summary>The name of the app setting that holds the nightly drift repair's NCRONTAB schedule.</summary>
    public const string RepairScheduleSetting = "ZoomRepairSchedule";

    /// <summary>Where the REST API lives; the Sandbox points it at the simulator.</summary>
    [Required]
    public Uri ApiBaseAddress { get; set; } = new("https://api.zoom.us/");

    /// <summary>Where <c>/oauth/token</c> lives.</summary>
    [Required]
    public Uri OAuthBaseAddress { get; set; } = new("https://zoom.us/");

    [Required(AllowEmptyStrings = false)]
    public string AccountId { get; set; } = string.Empty;

    [Required(AllowEmptyStrings = false)]
    public string ClientId { get; set; } = string.Empty;

    [Required(AllowEmptyStrings = false)]
    public string ClientSecret { get; set; } = string.Empty;

    /// <summary>The app's webhook Secret Token: signs <c>x-zm-signature</c> and the url_validation answer.</summary>
    [Required(AllowEmptyStrings = false)]
    public string WebhookSecretToken { get; set; } = string.Empty;

    /// <summary>Keys the opaque booking reference written into <c>agenda</c>, so the reference reveals nothing.</summary>
    [Required(AllowEmptyStrings = false)]
    [MinLength(16)]
    public string BookingReferenceKey { get; set; } = string.Empty;

    /// <summary>The Zoom user who hosts lessons of lecturers with no row in <c>ZoomHosts</c>.</summary>
    [Required(AllowEmptyStrings = false)]
    public string DefaultHostUserId { get; set; } = string.Empty;

    /// <summary>Zoom's per-second limit for the whole account (Medium category: 20/s on Pro), shared by every instance.</summary>
    [Range(1, 200)]
    public int RequestsPerSecond { get; set; } = 20;

    /// <summary>
    /// The fraction of <see cref="RequestsPerSecond"/> left unused: 5 % (19 of 20) leaves one send time (~50 ms) of
    /// slack for timer lateness and clock offsets between instances and Zoom, whose windows are not aligned with ours.
    /// </summary>
    [Range(0.0, 0.5)]
    public double RateBudgetHeadroom { get; set; } = 0.05;

    /// <summary>Send times an instance reserves per table transaction, at most (5 = 0.2 transactions per request).</summary>
    [Range(1, 50)]
    public int RateBudgetBlockSize { get; set; } = 5;

    /// <summary>Instances assumed to share the budget when table <c>ProviderRateBudget</c> fails before this instance saw any.</summary>
    [Range(1, 1000)]
    public int RateBudgetFallbackInstances { get; set; } = 8;

    /// <summary>Zoom allows 100 meeting creates/updates per host per UTC day (a pool host's own row may set less).</summary>
    [Range(1, 10_000)]
    public int DailyCreateUpdateLimitPerHost { get; set; } = 100;

    /// <summary>Work held back by the daily limit resumes this long after 00:00 UTC, so clock skew never lands it early.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan DailyLimitResetMargin { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A cached token is replaced this long before it expires, so no call goes out with a dying token.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:30:00")]
    public TimeSpan TokenRefreshMargin { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a converger holds a booking while it creates its meeting; past it, the create is treated as crashed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:30:00")]
    public TimeSpan CreateLease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Free time a pool host keeps between two lessons, so an overrunning lesson does not block the next one's start.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "02:00:00")]
    public TimeSpan LessonGap { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>When no pool host is free for a lesson, its converge is tried again after this long (and the site is told).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "06:00:00")]
    public TimeSpan NoFreeHostRetryDelay { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long before a pool-hosted lesson its lecturer may fetch a start link (Zoom's <c>start_url</c> expires, so it is fetched fresh).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "02:00:00")]
    public TimeSpan StartLinkLeadTime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The key the Cafetalk site sends in <c>X-Cafetalk-Site-Key</c> to fetch a start link (a Key Vault reference in Azure); unset, the route refuses everyone.</summary>
    [MinLength(32)]
    public string? StartLinkSiteKey { get; set; }

    /// <summary>Webhooks whose <c>x-zm-request-timestamp</c> is further than this from now are refused.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:30:00")]
    public TimeSpan WebhookTimestampTolerance { get; set; } = TimeSpan.FromMinutes(5);
}
