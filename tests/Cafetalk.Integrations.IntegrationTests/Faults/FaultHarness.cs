using System.Diagnostics;
using System.Globalization;
using System.Net;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Cli.Draining;
using Cafetalk.Integrations.Cli.Serving;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Zoom;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Vimeo;
using Cafetalk.Integrations.Zoom;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.IntegrationTests.Faults;

/// <summary>
/// A private Sandbox with the HTTP functions served in front of it (connect, webhook, unsubscribe), fresh worker
/// processes on demand (each its own service provider: no cache, no ledger head, no token survives a crash), and a
/// host loop that runs intake and every queue function with host-style retries until nothing is left to do.
/// Provider clients get short timeouts and backoffs, so faults cost milliseconds, not minutes.
/// </summary>
internal sealed class FaultHarness : IAsyncDisposable
{
    /// <summary>Every queue a function listens to; poison queues and the outbound site-notifications are checked apart.</summary>
    public static readonly IReadOnlyList<string> WorkQueues =
        [.. QueueNames.All.Where(q => !q.EndsWith("-poison", StringComparison.Ordinal) && q != QueueNames.SiteNotifications)];

    private FaultHarness(SandboxEnvironment sandbox, LocalFunctionsServer server)
    {
        Sandbox = sandbox;
        Server = server;
    }

    public SandboxEnvironment Sandbox { get; }

    public LocalFunctionsServer Server { get; }

    /// <summary>The long-lived worker behind the served functions; also runs the host loop unless a test brings its own.</summary>
    public IServiceProvider Services => Server.Services;

    public StorageAccount Storage => StorageAccount.FromConnectionString(Sandbox.StorageConnectionString);

    public static async Task<FaultHarness> StartAsync(bool azuriteOnDisk = false)
    {
        var sandbox = await SandboxEnvironment.StartAsync(azuriteOnDisk);
        try
        {
            var server = await LocalFunctionsServer.StartAsync(baseUrl =>
            {
                sandbox.PublicBaseUrl = baseUrl;
                return sandbox.Settings();
            }, configure: FastProviderClients, minimumLevel: LogLevel.None);
            LogCapture.Plant("function-key", server.FunctionKey);
            await server.Services.GetRequiredService<StorageAccount>().EnsureProvisionedAsync();
            sandbox.Zoom.DailyLimitPerHost = 10_000;
            return new FaultHarness(sandbox, server);
        }
        catch
        {
            await sandbox.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Short attempt timeouts (a hang costs 1 s, the shortest the options allow) and millisecond backoffs; leases and
    /// claims of a second, so a crashed create, insert or upload is looked up again at once instead of after minutes,
    /// and a calendar insert waits a second, not a minute, for its Zoom join link.
    /// </summary>
    public static void FastProviderClients(IServiceCollection services)
    {
        services.Configure<ZoomOptions>(o =>
        {
            (o.RetryBaseDelay, o.RetryMaxDelay, o.AttemptTimeout) = (TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(1));
            o.CreateLease = TimeSpan.FromSeconds(1);
            // The suite creates more meetings on the one Sandbox host than Zoom's 100 a day.
            o.DailyCreateUpdateLimitPerHost = 10_000;
        });
        services.Configure<GoogleCalendarOptions>(o =>
        {
            (o.RetryBaseDelay, o.RetryMaxDelay, o.AttemptTimeout) = (TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(1));
            (o.JoinLinkWait, o.InsertClaim) = (TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        });
        services.Configure<VimeoOptions>(o =>
        {
            (o.RetryBaseDelay, o.RetryMaxDelay, o.AttemptTimeout) = (TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(600), TimeSpan.FromSeconds(1));
            (o.UploadLease, o.UploadCheckInterval) = (TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        });
        // The suite's nightly run comes seconds after a crash, with nothing else in flight: close what is in doubt at once.
        services.Configure<DisclosureLedgerOptions>(o => o.InDoubtAfter = TimeSpan.Zero);
        // The mail client uses the standard resilience handler; its options are named after the typed client.
        services.PostConfigure<HttpStandardResilienceOptions>($"{nameof(MailServiceClient)}-standard", o =>
        {
            o.AttemptTimeout.Timeout = TimeSpan.FromSeconds(1);
            o.Retry.Delay = TimeSpan.FromMilliseconds(10);
            o.Retry.UseJitter = false;
        });
    }

    /// <summary>A new worker process on the same settings; with <paramref name="kill"/>, it can die at a chosen step.</summary>
    public ServiceProvider NewWorker(WorkerKill? kill = null, Action<Azure.Core.ClientOptions>? storage = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(Sandbox.Settings()).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddCafetalkIntegrationsCore(configuration);
        services.AddLogging(logging => LogCapture.AddTo(logging));
        FastProviderClients(services);
        if (storage is not null)
        {
            services.Replace(ServiceDescriptor.Singleton(StorageAccount.FromConnectionString(Sandbox.StorageConnectionString).WithClientOptions(storage)));
        }

        if (kill is not null)
        {
            services.Replace(ServiceDescriptor.Singleton(StorageAccount.FromConnectionString(Sandbox.StorageConnectionString)
                .WithClientOptions(options => options.AddPolicy(new StorageKillPolicy(kill), Azure.Core.HttpPipelinePosition.PerCall))));
            // Defaults are applied before each client's own handlers: this one is outermost, around retries and the gate.
            services.ConfigureHttpClientDefaults(client => client.AddHttpMessageHandler(() => new ProviderKillHandler(kill)));
        }

        return services.BuildServiceProvider();
    }

    /// <summary>Publishes messages to booking-events as the booking system does.</summary>
    public async Task PublishAsync(IEnumerable<string> messages, IServiceProvider? services = null)
    {
        services ??= Services;
        var direct = await new EventPublisher(services.GetRequiredService<StorageAccount>(), services.GetRequiredService<BookingEventIntake>()).PublishAsync(messages);
        Assert.Empty(direct);
    }

    /// <summary>The host: intake and every queue function, failed messages retried after 200 ms, until every work queue is empty.</summary>
    public async Task<HostRun> SettleAsync(IServiceProvider? services = null, TimeSpan? limit = null, bool tolerateStorageErrors = false)
    {
        services ??= Services;
        var storage = services.GetRequiredService<StorageAccount>();
        var drainer = new QueueDrainer(storage, services.GetRequiredService<BookingEventIntake>(), services.GetRequiredService<PoisonQueue>()) { Visibility = TimeSpan.FromSeconds(10) };
        var pump = new LocalQueuePump(services, storage, services.GetRequiredService<ILogger<LocalQueuePump>>())
        {
            Visibility = TimeSpan.FromSeconds(10),
            RetryDelay = TimeSpan.FromMilliseconds(200),
        };
        var clock = Stopwatch.StartNew();
        var run = new HostRun();
        while (true)
        {
            var handled = 0;
            try
            {
                var drained = await drainer.DrainAsync();
                run.IntakeFailures += drained.Failed;
                handled = drained.Received + await pump.RunUntilIdleAsync();
                run.Invocations += handled;
            }
            catch (Exception ex) when (tolerateStorageErrors && ex is not OperationCanceledException)
            {
                // The host keeps polling through a storage outage, whatever the SDK threw.
                run.StorageErrors++;
                run.ErrorTypes.Add(ex.GetType().Name);
                await Task.Delay(250);
            }

            if (handled == 0)
            {
                var waiting = await WaitingAsync(storage, tolerateStorageErrors);
                if (waiting.Count == 0)
                {
                    run.Elapsed = clock.Elapsed;
                    return run;
                }

                if (clock.Elapsed > (limit ?? TimeSpan.FromSeconds(90)))
                {
                    throw new TimeoutException($"Queues did not settle within {clock.Elapsed.TotalSeconds:0} s: {string.Join(", ", waiting.Select(w => $"{w.Key}={w.Value}"))}");
                }

                await Task.Delay(150);
            }
        }
    }

    /// <summary>Work queues that still hold messages (visible or not); unknown counts while storage is down count as waiting.</summary>
    private static async Task<Dictionary<string, int>> WaitingAsync(StorageAccount storage, bool tolerateStorageErrors)
    {
        var waiting = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var queue in WorkQueues)
        {
            try
            {
                var count = (await storage.Queue(queue).GetPropertiesAsync()).Value.ApproximateMessagesCount;
                if (count > 0)
                {
                    waiting[queue] = count;
                }
            }
            catch (Exception ex) when (tolerateStorageErrors && ex is not OperationCanceledException)
            {
                waiting[queue] = -1;
            }
        }

        return waiting;
    }

    /// <summary>
    /// Every queue of the account that holds messages now, by name (poison queues included), but <c>site-notifications</c>:
    /// the booking system reads that one, so what the pipeline told it stays there (<see cref="SiteNotificationsOutsideTheContractAsync"/>).
    /// </summary>
    public async Task<Dictionary<string, int>> NonEmptyQueuesAsync()
    {
        var service = new QueueServiceClient(Sandbox.StorageConnectionString);
        var found = new Dictionary<string, int>(StringComparer.Ordinal);
        await foreach (var queue in service.GetQueuesAsync())
        {
            if (queue.Name == QueueNames.SiteNotifications)
            {
                continue;
            }

            var count = (await service.GetQueueClient(queue.Name).GetPropertiesAsync()).Value.ApproximateMessagesCount;
            if (count > 0)
            {
                found[queue.Name] = count;
            }
        }

        return found;
    }

    /// <summary>The notifications on <c>site-notifications</c> whose type is unknown or whose data its schema refuses (their types).</summary>
    public async Task<List<string>> SiteNotificationsOutsideTheContractAsync()
    {
        var outside = new List<string>();
        foreach (var message in (await Storage.Queue(QueueNames.SiteNotifications).PeekMessagesAsync(32)).Value)
        {
            using var notification = System.Text.Json.JsonDocument.Parse(message.Body.ToString());
            var type = notification.RootElement.GetProperty("type").GetString() ?? string.Empty;
            if (SiteNotificationTypes.Find(type) is not { } known || SiteNotificationSchema.Problems(known, notification.RootElement.GetProperty("data")).Count > 0)
            {
                outside.Add(type);
            }
        }

        return outside;
    }

    /// <summary>The lecturer's browser: connect link → Google's consent page → approve → our callback.</summary>
    public async Task ConnectCalendarAsync(string lecturerId)
    {
        var ticket = Services.GetRequiredService<ConnectTickets>().Issue(lecturerId);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });
        using var start = await http.GetAsync(new Uri(Server.BaseUrl, $"api/calendar/connect?ticket={Uri.EscapeDataString(ticket)}"));
        var cookie = start.Headers.GetValues("Set-Cookie").First().Split(';')[0];
        var consent = start.Headers.Location!;
        var query = QueryHelpers.ParseQuery(consent.Query);
        var form = new[] { "redirect_uri", "state", "scope", "code_challenge", "access_type" }.ToDictionary(k => k, k => query[k].ToString());
        form["decision"] = "approve";
        using var decided = await http.PostAsync(new Uri(Sandbox.Google.BaseAddress, "o/oauth2/v2/auth/decision"), new FormUrlEncodedContent(form));
        using var callback = new HttpRequestMessage(HttpMethod.Get, decided.Headers.Location);
        callback.Headers.Add("Cookie", cookie);
        using var page = await http.SendAsync(callback);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    /// <summary>Zoom's signed recording.completed for each booking, through the webhook route, as Zoom delivers it.</summary>
    public async Task SendRecordingsCompletedAsync(IEnumerable<ExpectedBooking> bookings)
    {
        var table = Storage.Table(TableNames.Bookings);
        foreach (var booking in bookings)
        {
            var row = (await table.GetEntityAsync<TableEntity>(booking.LecturerId, booking.BookingId)).Value;
            var meetingId = long.Parse(row.GetString("ZoomMeetingId"), CultureInfo.InvariantCulture);
            var body = Sandbox.Zoom.RecordingCompletedBody(meetingId, ZoomSimulator.DefaultHostUserId);
            using var response = await Sandbox.Zoom.SendWebhookAsync(new Uri(Server.BaseUrl, "api/zoom/webhook"), body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            booking.Recorded = true;
        }
    }

    /// <summary>A subscribed member clicks one-click unsubscribe in a newsletter.</summary>
    public async Task UnsubscribeAsync(string memberId, string list = "cafetalk-news")
    {
        var link = (await Services.GetRequiredService<NewsletterSubscriptions>().HeadersAsync(memberId, list)).UnsubscribeUrl;
        using var http = new HttpClient();
        using var response = await http.PostAsync(link, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>The member changes their mind: the resubscribe button on the page the unsubscribe link opens.</summary>
    public async Task ResubscribeAsync(string memberId, string list = "cafetalk-news")
    {
        var link = (await Services.GetRequiredService<NewsletterSubscriptions>().HeadersAsync(memberId, list)).UnsubscribeUrl;
        using var http = new HttpClient();
        using var response = await Newsletter.ResubscribeButton.PressAsync(http, new Uri(link));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Turns on the seeded fault plan of every simulator (OAuth token endpoints included).</summary>
    public void EnableFaults(int seed, double rate)
    {
        Sandbox.Zoom.Faults.Enable(seed, rate);
        Sandbox.Google.Faults.Enable(seed + 1, rate);
        Sandbox.Vimeo.Faults.Enable(seed + 2, rate);
        Sandbox.Mail.Faults.Enable(seed + 3, rate);
    }

    public void DisableFaults()
    {
        Sandbox.Zoom.Faults.Disable();
        Sandbox.Google.Faults.Disable();
        Sandbox.Vimeo.Faults.Disable();
        Sandbox.Mail.Faults.Disable();
    }

    /// <summary>The fault plans' figures, per provider.</summary>
    public IReadOnlyDictionary<string, SimulatorFaults> FaultPlans => new Dictionary<string, SimulatorFaults>
    {
        ["zoom"] = Sandbox.Zoom.Faults,
        ["google"] = Sandbox.Google.Faults,
        ["vimeo"] = Sandbox.Vimeo.Faults,
        ["mail"] = Sandbox.Mail.Faults,
    };

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Sandbox.DisposeAsync();
    }
}

/// <summary>What one host loop did.</summary>
internal sealed class HostRun
{
    public int Invocations { get; set; }
    public int IntakeFailures { get; set; }
    public int StorageErrors { get; set; }
    public HashSet<string> ErrorTypes { get; } = new(StringComparer.Ordinal);
    public TimeSpan Elapsed { get; set; }
}

/// <summary>The seed of every random choice in the fault suite: <c>FAULT_SEED</c>, or a fixed default.</summary>
internal static class FaultSeed
{
    public const int Default = 20261125;

    public static int Value => int.TryParse(Environment.GetEnvironmentVariable("FAULT_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) ? seed : Default;

    /// <summary>How to run this again, for failure messages.</summary>
    public static string Replay => $"FAULT_SEED={Value}";
}
