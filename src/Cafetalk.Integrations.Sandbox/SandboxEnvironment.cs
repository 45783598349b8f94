using Cafetalk.Integrations.Sandbox.Mail;
using Cafetalk.Integrations.Sandbox.Vimeo;
using Cafetalk.Integrations.Sandbox.Google;
using Cafetalk.Integrations.Sandbox.Zoom;

namespace Cafetalk.Integrations.Sandbox;

/// <summary>
/// Everything a local run needs, started together and stopped together: a private Azurite and the provider
/// simulators. One per test class or CLI run; nothing global.
/// </summary>
public sealed class SandboxEnvironment : IAsyncDisposable
{
    private SandboxEnvironment(Azurite azurite, ZoomSimulator zoom, VimeoSimulator vimeo, MailServiceSimulator mail, GoogleSimulator google)
    {
        Azurite = azurite;
        Zoom = zoom;
        Vimeo = vimeo;
        Mail = mail;
        Google = google;
        // Held here so the wire log outlives the hosts (the tap closes when its host stops).
        _wire = [("zoom", WireTap.Of(zoom.BaseAddress)), ("vimeo", WireTap.Of(vimeo.BaseAddress)), ("mail", WireTap.Of(mail.BaseAddress)), ("google", WireTap.Of(google.BaseAddress))];
    }

    private readonly (string Provider, IReadOnlyCollection<ObservedRequest> Requests)[] _wire;

    public Azurite Azurite { get; }

    public ZoomSimulator Zoom { get; }

    public VimeoSimulator Vimeo { get; }

    public MailServiceSimulator Mail { get; }

    /// <summary>The suppression group the Sandbox's newsletter list maps to.</summary>
    public const int NewsletterGroupId = 101;

    public GoogleSimulator Google { get; }

    public string StorageConnectionString => Azurite.ConnectionString;

    public static Task<SandboxEnvironment> StartAsync(CancellationToken cancellationToken = default) =>
        StartAsync(azuriteOnDisk: false, cancellationToken);

    /// <summary>With <paramref name="azuriteOnDisk"/>, Azurite keeps its data on disk so a test can stop and start it again (an outage).</summary>
    public static async Task<SandboxEnvironment> StartAsync(bool azuriteOnDisk, CancellationToken cancellationToken = default)
    {
        var azurite = azuriteOnDisk
            ? await Azurite.StartOnDiskAsync(cancellationToken: cancellationToken)
            : await Azurite.StartAsync(cancellationToken: cancellationToken);
        ZoomSimulator? zoom = null;
        VimeoSimulator? vimeo = null;
        MailServiceSimulator? mail = null;
        try
        {
            zoom = await ZoomSimulator.StartAsync(cancellationToken: cancellationToken);
            vimeo = await VimeoSimulator.StartAsync(cancellationToken: cancellationToken);
            mail = await MailServiceSimulator.StartAsync(cancellationToken);
            mail.CreateGroup(NewsletterGroupId, "Cafetalk news");
            var google = await GoogleSimulator.StartAsync(cancellationToken: cancellationToken);
            return new SandboxEnvironment(azurite, zoom, vimeo, mail, google);
        }
        catch
        {
            if (mail is not null)
            {
                await mail.DisposeAsync();
            }

            if (vimeo is not null)
            {
                await vimeo.DisposeAsync();
            }

            if (zoom is not null)
            {
                await zoom.DisposeAsync();
            }

            await azurite.DisposeAsync();
            throw;
        }
    }

    /// <summary>Fresh random keys for this Sandbox only: nothing secret is ever written in the repository.</summary>
    public SandboxKeys Keys { get; } = SandboxKeys.Generate();

    /// <summary>The public base URL pages and links are built on; <c>serve</c> replaces it with its own address.</summary>
    public Uri PublicBaseUrl { get; set; } = new("http://127.0.0.1:7071/");

    /// <summary>Raised as any Sandbox in this process starts to stop, so the test suite's log scan can collect <see cref="PlantedSecrets"/>.</summary>
    public static event Action<SandboxEnvironment>? Stopping;

    /// <summary>Every key and credential of this Sandbox and every token, code and link its simulators issued, by kind.</summary>
    public IReadOnlyList<PlantedValue> PlantedSecrets() =>
    [
        new("field-protection-key", Keys.FieldProtection),
        new("newsletter-token-key", Keys.NewsletterToken),
        new("vimeo-reference-key", Keys.VimeoReference),
        new("calendar-ticket-key", Keys.CalendarTicket),
        new("calendar-event-id-key", Keys.CalendarEventId),
        new("erasure-member-key", Keys.ErasureMemberKey),
        new("privacy-office-private-key", Keys.PrivacyOffice.PrivateKeyPem),
        new("privacy-office-key", Keys.PrivacyOfficeApiKey),
        new("zoom-client-secret", ZoomSimulator.ClientSecret),
        new("zoom-webhook-secret", ZoomSimulator.WebhookSecretToken),
        new("zoom-booking-reference-key", Zoom.Settings()["Zoom:BookingReferenceKey"]!),
        new("google-client-secret", GoogleSimulator.ClientSecret),
        new("vimeo-access-token", Vimeo.AccessToken),
        new("mail-api-key", Mail.ApiKey),
        .. Zoom.Issued.All,
        .. Google.Issued.All,
    ];

    /// <summary>The settings a host needs to run against this Sandbox.</summary>
    public IReadOnlyDictionary<string, string?> Settings()
    {
        var settings = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = StorageConnectionString,
            ["FieldProtection:CurrentKeyId"] = "sandbox1",
            ["FieldProtection:Keys:sandbox1"] = Keys.FieldProtection,
            ["Erasure:MemberKey"] = Keys.ErasureMemberKey,
            ["Erasure:PrivacyOfficePublicKey"] = Keys.PrivacyOffice.PublicKey,
            ["Newsletter:PublicBaseUrl"] = PublicBaseUrl.ToString(),
            ["Newsletter:CurrentTokenKeyId"] = "sandbox1",
            ["Newsletter:TokenKeys:sandbox1"] = Keys.NewsletterToken,
            ["Newsletter:SuppressionGroups:cafetalk-news"] = NewsletterGroupId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["NewsletterReconcileSchedule"] = "0 30 3 * * *",
            ["LedgerDigestSchedule"] = "0 */15 * * * *",
            ["LedgerRetentionSchedule"] = "0 45 3 * * *",
            ["ErasureRetrySchedule"] = "0 15 3 * * *",
            ["HostPoisonSweepSchedule"] = "0 */5 * * * *",
            ["PrivacyOffice:ApiKey"] = Keys.PrivacyOfficeApiKey,
            ["Zoom:StartLinkSiteKey"] = Keys.StartLinkSiteKey,
            ["Vimeo:ReferenceKey"] = Keys.VimeoReference,
            ["VimeoRetentionSchedule"] = "0 30 3 * * *",
        };
        foreach (var (key, value) in Zoom.Settings().Concat(Vimeo.Settings()).Concat(Mail.Settings()).Concat(Google.Settings()))
        {
            settings[key] = value;
        }

        // The redirect URI is registered at the simulator as it would be in the Google Cloud console: exactly this one.
        var redirectUri = new Uri(PublicBaseUrl, "api/calendar/callback");
        Google.RegisteredRedirectUri = redirectUri;
        settings["GoogleCalendar:RedirectUri"] = redirectUri.ToString();
        settings["GoogleCalendar:CurrentTicketKeyId"] = "sandbox1";
        settings["GoogleCalendar:TicketKeys:sandbox1"] = Keys.CalendarTicket;
        settings["GoogleCalendar:EventIdKey"] = Keys.CalendarEventId;
        settings["CalendarSyncSchedule"] = "0 30 3 * * *";
        settings["CalendarWatchSchedule"] = "0 50 */6 * * *";
        settings["ZoomRepairSchedule"] = "0 20 3 * * *";
        settings["StartsSoonSchedule"] = "0 */10 * * * *";

        // The gate sends only to a recipient's own hosts over https; these loopback origins stand in for them here.
        foreach (var (recipient, address) in SimulatorAddresses())
        {
            settings[$"Disclosure:SandboxOrigins:{recipient}:0"] = new Uri(address).GetLeftPart(UriPartial.Authority);
        }

        return settings;
    }

    /// <summary>Every request the simulators' hosts received so far, by provider in arrival order, secrets redacted (for <c>--wire-log</c>).</summary>
    public IReadOnlyList<(DateTimeOffset At, WireRequest Request)> WireRequests() =>
        [.. _wire.SelectMany(w => w.Requests.Select(r => (r.ReceivedAtUtc, WireLog.Line(w.Provider, r))))];

    /// <summary>The simulators' base addresses, by provider.</summary>
    public IReadOnlyDictionary<string, string> SimulatorAddresses() => new Dictionary<string, string>
    {
        ["zoom"] = Zoom.BaseAddress.ToString(),
        ["vimeo"] = Vimeo.BaseAddress.ToString(),
        ["mail"] = Mail.BaseAddress.ToString(),
        ["google"] = Google.BaseAddress.ToString(),
    };

    public async ValueTask DisposeAsync()
    {
        Stopping?.Invoke(this);
        await Google.DisposeAsync();
        await Mail.DisposeAsync();
        await Vimeo.DisposeAsync();
        await Zoom.DisposeAsync();
        await Azurite.DisposeAsync();
    }
}
