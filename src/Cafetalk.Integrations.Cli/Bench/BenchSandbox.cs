using Azure.Data.Tables;
using Cafetalk.Integrations.Cli.Demo;
using Cafetalk.Integrations.Cli.Serving;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Cli.Bench;

/// <summary>
/// One benchmark's world: a fresh Sandbox, the functions served and pumped as <c>demo</c> runs them, and every
/// storage request counted on the wire. Each scenario gets its own, so one's state never flatters another's.
/// </summary>
internal sealed class BenchSandbox : IAsyncDisposable
{
    private BenchSandbox(SandboxEnvironment sandbox, LocalFunctionsServer server, StorageOperationCounter counter, IReadOnlyDictionary<string, string?> settings)
    {
        Sandbox = sandbox;
        Server = server;
        Counter = counter;
        Settings = settings;
    }

    public SandboxEnvironment Sandbox { get; }

    public LocalFunctionsServer Server { get; }

    public StorageOperationCounter Counter { get; }

    /// <summary>The settings the functions run with (the Sandbox's plus the scenario's overrides).</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; }

    public IServiceProvider Services => Server.Services;

    public StorageAccount Storage => Services.GetRequiredService<StorageAccount>();

    /// <summary>The queue functions, each queue polled as the Functions host polls it with this app's host.json.</summary>
    public LocalQueuePump Pump
    {
        get
        {
            var pump = ActivatorUtilities.CreateInstance<LocalQueuePump>(Services);
            pump.MaxPollingInterval = HostJsonMaxPollingInterval.Value;
            return pump;
        }
    }

    // The app's host.json (linked into this program's output by the Functions project): extensions.queues.maxPollingInterval.
    private static readonly Lazy<TimeSpan> HostJsonMaxPollingInterval = new(() =>
    {
        using var host = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "host.json")));
        return TimeSpan.Parse(host.RootElement.GetProperty("extensions").GetProperty("queues").GetProperty("maxPollingInterval").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
    });

    /// <remarks><paramref name="push"/> points Google's watch channels at this server's notification route.</remarks>
    public static async Task<BenchSandbox> StartAsync(IReadOnlyDictionary<string, string?> overrides, CancellationToken cancellationToken, bool push = false)
    {
        var sandbox = await SandboxEnvironment.StartAsync(cancellationToken);
        var counter = new StorageOperationCounter(sandbox.Azurite.TablePort, sandbox.Azurite.QueuePort, sandbox.Azurite.BlobPort);
        Dictionary<string, string?> settings = [];
        var server = await LocalFunctionsServer.StartAsync(baseUrl =>
            {
                sandbox.PublicBaseUrl = baseUrl;
                settings = new Dictionary<string, string?>(sandbox.Settings());
                foreach (var (key, value) in overrides)
                {
                    settings[key] = value;
                }

                if (push)
                {
                    settings["GoogleCalendar:NotificationAddress"] = new Uri(baseUrl, "api/" + CalendarNotifications.Route).ToString();
                }

                return settings;
            },
            configure: services => services.Replace(ServiceDescriptor.Singleton(provider =>
                StorageAccount.FromConfiguration(provider.GetRequiredService<IConfiguration>()).WithRequestPolicy(counter))),
            minimumLevel: LogLevel.None, // CAFETALK_LOG_LEVEL=Warning shows failures on stderr
            cancellationToken: cancellationToken);
        var bench = new BenchSandbox(sandbox, server, counter, settings);
        await bench.Storage.EnsureProvisionedAsync(cancellationToken);
        return bench;
    }

    /// <summary>Gives each lecturer a Zoom host of their own, as production does, so no host's 100-a-day limit binds.</summary>
    public async Task AssignZoomHostsAsync(IEnumerable<string> lecturers, CancellationToken cancellationToken)
    {
        var hosts = Storage.Table(TableNames.ZoomHosts);
        await Parallel.ForEachAsync(lecturers, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (lecturer, ct) =>
            await hosts.UpsertEntityAsync(new TableEntity(lecturer, "host") { ["HostUserId"] = $"host-{lecturer}" }, cancellationToken: ct));
    }

    /// <summary>Connects lecturers to Google Calendar through the real OAuth flow, a few at a time.</summary>
    public async Task ConnectCalendarsAsync(IEnumerable<string> lecturers, CancellationToken cancellationToken)
    {
        var tickets = Services.GetRequiredService<ConnectTickets>();
        await Parallel.ForEachAsync(lecturers, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (lecturer, ct) =>
            await DemoRunner.ConnectAsync(Server, Sandbox, tickets.Issue(lecturer), ct));
    }

    /// <summary>Puts messages on booking-events as the booking system would; not counted as the pipeline's storage work.</summary>
    public async Task PublishAsync(IEnumerable<string> messages, CancellationToken cancellationToken)
    {
        var queue = StorageAccount.FromConnectionString(Sandbox.StorageConnectionString).Queue(QueueNames.BookingEvents);
        await Parallel.ForEachAsync(messages, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (message, ct) =>
            await queue.SendMessageAsync(message, ct));
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Sandbox.DisposeAsync();
    }
}
