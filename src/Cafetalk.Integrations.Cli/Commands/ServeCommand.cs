using System.CommandLine;
using System.Text.Json;
using Cafetalk.Integrations.Cli.Serving;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Sandbox;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.Cli.Commands;

/// <summary>
/// <c>serve --sandbox</c>: the HTTP functions on a local Kestrel server, and the queue functions on a local pump, with the Sandbox behind them, for
/// development and browser tests. Production is Azure Functions (<c>azd up</c>), never this.
/// </summary>
internal static class ServeCommand
{
    public static Command Create(TextWriter stdout)
    {
        var sandbox = new Option<bool>("--sandbox") { Description = "Run against a private Sandbox (Azurite and the provider simulators). Required: serve is never a production host." };
        var port = CliOptions.WholeNumber("--port", "Port on 127.0.0.1 (default: a free one).", 0, 65535, helpName: "P");
        var wireLog = CliOptions.OutputFile("--wire-log", "On exit, write every request the simulators received, one JSON object per line, secrets redacted.");
        var writeSettings = CliOptions.OutputFile("--write-settings", "Write the Sandbox's settings (storage, simulator addresses, its throwaway keys) to this file for the operator commands'\n" +
            "--settings, e.g. 'erase --member stu_demo_ja --settings sandbox.json'; removed when serve stops.", helpName: "FILE.json");
        var command = new Command("serve", "Host the HTTP functions on 127.0.0.1 with the Sandbox behind them until Ctrl+C or SIGTERM.\n" +
            "Prints one JSON line first: {baseUrl, storageConnectionString, unsubscribeUrls, connectUrl, zoomWebhookSecret, simulators}; connectUrl works once, for GoogleCalendar:TicketMaxLifetime.\n" +
            "Example: cafetalk-integrations serve --sandbox --port 7071 --wire-log wire.jsonl --write-settings sandbox.json") { sandbox, port, wireLog, writeSettings };
        command.Validators.Add(r =>
        {
            if (!r.GetValue(sandbox))
            {
                r.AddError("serve runs only with --sandbox; production runs on Azure Functions (azd up).");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var environment = await SandboxEnvironment.StartAsync(cancellationToken);
            var server = await LocalFunctionsServer.StartAsync(baseUrl =>
            {
                environment.PublicBaseUrl = baseUrl;
                return environment.Settings();
            }, parse.GetValue(port), cancellationToken: cancellationToken);
            // The queue-triggered functions run too, as the host would run them, so a click reaches the simulators.
            var pump = ActivatorUtilities.CreateInstance<LocalQueuePump>(server.Services).RunAsync(cancellationToken);
            try
            {
                var unsubscribeUrls = await SeedSubscribersAsync(server.Services, cancellationToken);
                var settings = environment.Settings();
                if (parse.GetValue(writeSettings) is { } settingsFile)
                {
                    // Only ever the Sandbox's settings: serve refuses to run without --sandbox, and these keys die with it.
                    await CliSettingsFile.WriteAsync(settingsFile.FullName, settings, cancellationToken);
                }

                await stdout.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    baseUrl = server.BaseUrl.ToString(),
                    storageConnectionString = environment.StorageConnectionString,
                    unsubscribeUrls,
                    connectUrl = new Uri(server.BaseUrl, $"api/calendar/connect?ticket={Uri.EscapeDataString(server.Services.GetRequiredService<GoogleCalendar.ConnectTickets>().Issue("lec_demo_berlin", TicketWindow(server.Services)))}").ToString(),
                    zoomWebhookSecret = settings["Zoom:WebhookSecretToken"],
                    zoomWebhookUrl = new Uri(server.BaseUrl, "api/zoom/webhook").ToString(),
                    functionKey = server.FunctionKey,
                    simulators = environment.SimulatorAddresses(),
                }));
                await stdout.FlushAsync(cancellationToken);
                await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            finally
            {
                await pump;
                await server.DisposeAsync();
                if (parse.GetValue(writeSettings) is { } written)
                {
                    written.Delete();
                }

                if (parse.GetValue(wireLog) is { } file)
                {
                    await WireLog.WriteAsync(file.FullName, environment.WireRequests().OrderBy(r => r.At).Select(r => r.Request), CancellationToken.None);
                }
            }

            return CliApplication.ExitOk;
        });
        return command;
    }

    /// <summary>Two demo members subscribed through the real event path, so the pages have something to act on.</summary>
    /// <summary>The longest a ticket is accepted: the printed link works for that long (`connect-link` prints a fresh one).</summary>
    private static TimeSpan TicketWindow(IServiceProvider services) =>
        services.GetRequiredService<Microsoft.Extensions.Options.IOptions<GoogleCalendar.GoogleCalendarOptions>>().Value.TicketMaxLifetime;

    private static async Task<List<string>> SeedSubscribersAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var subscriptions = services.GetRequiredService<NewsletterSubscriptions>();
        var urls = new List<string>();
        foreach (var (member, locale) in new[] { ("stu_demo_ja", "ja"), ("stu_demo_en", "en") })
        {
            await subscriptions.HandleEventAsync(SampleEvents.NewsletterSubscribed(member, $"{member}@example.jp", "cafetalk-news", locale), null, cancellationToken);
            urls.Add((await subscriptions.HeadersAsync(member, "cafetalk-news", cancellationToken)).UnsubscribeUrl);
        }

        return urls;
    }
}
