using System.ComponentModel.DataAnnotations;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>Settings of section <c>GoogleCalendar</c>: the OAuth client, Google's endpoints, the connect tickets and the limits we plan for.</summary>
public sealed class GoogleCalendarOptions : ProviderRetryOptions
{
    public GoogleCalendarOptions() => (MaxRetryAttempts, RetryMaxDelay, AttemptTimeout) = (5, TimeSpan.FromSeconds(32), TimeSpan.FromSeconds(20));

    public const string SectionName = "GoogleCalendar";

    /// <summary>The only scope we ask for: a secondary calendar we create, nothing else of the lecturer's.</summary>
    public const string Scope = "https://www.googleapis.com/auth/calendar.app.created";

    /// <summary>The name of the app setting that holds the nightly sync's NCRONTAB schedule.</summary>
    public const string SyncScheduleSetting = "CalendarSyncSchedule";

    /// <summary>The name of the app setting that holds the watch channel renewal timer's NCRONTAB schedule.</summary>
    public const string WatchScheduleSetting = "CalendarWatchSchedule";

    [Required(AllowEmptyStrings = false)]
    public string ClientId { get; set; } = string.Empty;

    [Required(AllowEmptyStrings = false)]
    public string ClientSecret { get; set; } = string.Empty;

    /// <summary>Exactly the redirect URI registered for the OAuth client, e.g. https://integrations.cafetalk.com/api/calendar/callback.</summary>
    [Required]
    public Uri RedirectUri { get; set; } = null!;

    [Required]
    public Uri AuthorizationEndpoint { get; set; } = new("https://accounts.google.com/o/oauth2/v2/auth");

    [Required]
    public Uri TokenEndpoint { get; set; } = new("https://oauth2.googleapis.com/token");

    [Required]
    public Uri RevokeEndpoint { get; set; } = new("https://oauth2.googleapis.com/revoke");

    /// <summary>Where <c>calendar/v3/</c> lives; the Sandbox points it at the simulator.</summary>
    [Required]
    public Uri ApiBaseAddress { get; set; } = new("https://www.googleapis.com/");

    /// <summary>The key that signs new connect tickets (shared with the Cafetalk site, which issues them).</summary>
    [Required(AllowEmptyStrings = false)]
    public string CurrentTicketKeyId { get; set; } = string.Empty;

    /// <summary>Ticket HMAC keys: key id → base64 of at least 32 bytes. A removed key retires its tickets.</summary>
    [Required]
    [MinLength(1)]
    public Dictionary<string, string> TicketKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Keys the event id derived from a booking id, so the id tells Google nothing about the booking.</summary>
    [Required(AllowEmptyStrings = false)]
    [MinLength(16)]
    public string EventIdKey { get; set; } = string.Empty;

    /// <summary>How long a connect ticket issued by the site stays valid.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "01:00:00")]
    public TimeSpan TicketLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The longest a connect ticket is accepted, whatever expiry its signer wrote: a ticket whose expiry lies further
    /// ahead than this is refused, so no ticket is usable for longer than this window.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:10", "01:00:00")]
    public TimeSpan TicketMaxLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long the lecturer has to confirm, on our page, that a new Google account replaces the connected one.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "01:00:00")]
    public TimeSpan ReplaceConfirmationLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long the lecturer has to finish consent at Google.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "01:00:00")]
    public TimeSpan StateLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The cookie binding the OAuth state to the browser. Production keeps the <c>__Host-</c> prefix, which requires Secure.</summary>
    [Required(AllowEmptyStrings = false)]
    public string StateCookieName { get; set; } = "__Host-cafetalk-calendar";

    public string CalendarSummary { get; set; } = "Cafetalk lessons";

    public string EventSummary { get; set; } = "Cafetalk lesson";

    /// <summary>Bookings that start within this window ahead are backfilled when a lecturer connects.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "800.00:00:00")]
    public TimeSpan BackfillHorizon { get; set; } = TimeSpan.FromDays(365);

    /// <summary>
    /// How long a new booking's event waits for its Zoom join link before it is inserted without one: the Zoom
    /// converger asks again the moment the link exists, so the event goes to Google once, complete. Zero inserts at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:30:00")]
    public TimeSpan JoinLinkWait { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long an insert claim lasts: past any attempt's timeout, so a crashed claimer's copy is retried after it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan InsertClaim { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Where Google delivers push notifications: the public https URL of <c>POST /api/google/calendar-notifications</c>
    /// (its domain verified for the Google project). Unset: no watch channels, the nightly sync alone restores hand changes.
    /// </summary>
    public Uri? NotificationAddress { get; set; }

    /// <summary>The expiry asked for a new watch channel; Google may grant less, and its answer is what we renew against.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "30.00:00:00")]
    public TimeSpan ChannelLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>A channel ending within this is replaced by the renewal timer (new channel, then the old one stopped).</summary>
    [Range(typeof(TimeSpan), "00:10:00", "10.00:00:00")]
    public TimeSpan ChannelRenewBefore { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How long a calendar's sync waits after the first notification, so a burst of notifications costs one sync.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan NotificationDebounce { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>Checks the Google settings at start, naming the setting that is wrong and never a key.</summary>
public sealed class GoogleCalendarOptionsValidator : IValidateOptions<GoogleCalendarOptions>
{
    public ValidateOptionsResult Validate(string? name, GoogleCalendarOptions options)
    {
        if (options.RedirectUri is null || !options.RedirectUri.IsAbsoluteUri || (options.RedirectUri.Scheme != Uri.UriSchemeHttps && !options.RedirectUri.IsLoopback))
        {
            return ValidateOptionsResult.Fail($"{GoogleCalendarOptions.SectionName}:RedirectUri must be the absolute https URL registered for the OAuth client.");
        }

        if (KeyRing.RingProblem(GoogleCalendarOptions.SectionName, nameof(options.CurrentTicketKeyId), options.CurrentTicketKeyId, nameof(options.TicketKeys), options.TicketKeys) is { } problem)
        {
            return ValidateOptionsResult.Fail(problem);
        }

        if (options.NotificationAddress is { } address && (!address.IsAbsoluteUri || (address.Scheme != Uri.UriSchemeHttps && !address.IsLoopback)))
        {
            return ValidateOptionsResult.Fail($"{GoogleCalendarOptions.SectionName}:NotificationAddress must be an absolute https URL (Google delivers only over https).");
        }

        if (options.ChannelRenewBefore >= options.ChannelLifetime)
        {
            return ValidateOptionsResult.Fail($"{GoogleCalendarOptions.SectionName}:ChannelRenewBefore must be shorter than {GoogleCalendarOptions.SectionName}:ChannelLifetime.");
        }

        if (options.TicketLifetime > options.TicketMaxLifetime)
        {
            return ValidateOptionsResult.Fail($"{GoogleCalendarOptions.SectionName}:TicketLifetime must not exceed {GoogleCalendarOptions.SectionName}:TicketMaxLifetime.");
        }

        if (!options.StateCookieName.StartsWith("__Host-", StringComparison.Ordinal) && !options.RedirectUri.IsLoopback)
        {
            return ValidateOptionsResult.Fail($"{GoogleCalendarOptions.SectionName}:StateCookieName must keep the __Host- prefix outside loopback.");
        }

        return ValidateOptionsResult.Success;
    }
}
