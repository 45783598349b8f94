using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Cli.Draining;
using Cafetalk.Integrations.Cli.Serving;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Erasure;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Operations;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Vimeo;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Cafetalk.Integrations.Cli.Demo;

/// <summary>What the demo was asked to do.</summary>
internal sealed record DemoOptions(FileInfo? EventsFile, int Bookings, bool Json, FileInfo? WireLog);

/// <summary>
/// The one-command demo: a private Sandbox, the functions on a local server and queue pump, lecturers connected
/// through the real OAuth flow, a day of booking events through intake and every converger, the nightly jobs,
/// a ledger check, and a report of what crossed the wire.
/// </summary>
internal sealed class DemoRunner(IAnsiConsole console, TextWriter stdout)
{
    public async Task<int> RunAsync(DemoOptions options, CancellationToken cancellationToken)
    {
        var now = TimeProvider.System.GetUtcNow();
        var day = options.EventsFile is null ? new DemoDay(options.Bookings, now) : null;
        var messages = day?.Events ?? await EventPublisher.ReadLinesAsync(options.EventsFile!, cancellationToken);
        var interactive = !options.Json && !Console.IsOutputRedirected;

        await using var sandbox = await Step(interactive, "Starting the Sandbox (Azurite and the provider simulators)", () => SandboxEnvironment.StartAsync(cancellationToken));
        await using var server = await LocalFunctionsServer.StartAsync(baseUrl =>
        {
            sandbox.PublicBaseUrl = baseUrl;
            return DemoPushSettings(sandbox.Settings(), baseUrl);
        }, minimumLevel: Microsoft.Extensions.Logging.LogLevel.None, cancellationToken: cancellationToken);
        var services = server.Services;
        var storage = services.GetRequiredService<StorageAccount>();
        await storage.EnsureProvisionedAsync(cancellationToken);
        foreach (var host in DemoDay.PoolHosts)
        {
            await services.GetRequiredService<Zoom.ZoomHostPool>().AddAsync(host, 1, null, cancellationToken);
        }

        var drainer = ActivatorUtilities.CreateInstance<QueueDrainer>(services);
        var pump = ActivatorUtilities.CreateInstance<LocalQueuePump>(services);
        var tally = new DrainTally();

        await Step(interactive, "Connecting demo lecturers to Google Calendar through the OAuth consent flow", async () =>
        {
            foreach (var lecturer in DemoDay.Lecturers.Take(2))
            {
                await ConnectAsync(server, sandbox, services.GetRequiredService<ConnectTickets>().Issue(lecturer), cancellationToken);
            }

            return 0;
        });

        await Step(interactive, $"Publishing {messages.Count} events and running every function until the queues are idle", async () =>
        {
            foreach (var outcome in await new EventPublisher(storage, services.GetRequiredService<BookingEventIntake>()).PublishAsync(messages, cancellationToken))
            {
                tally.Add(outcome);
            }

            await DrainAsync(drainer, pump, tally, cancellationToken);
            return 0;
        });

        if (day is not null)
        {
            await Step(interactive, "Afternoon: recordings finish, a member unsubscribes, another asks for erasure", async () =>
            {
                await AfternoonAsync(day, server, sandbox, services, cancellationToken);
                await DrainAsync(drainer, pump, tally, cancellationToken);
                return 0;
            });
        }

        if (day is not null)
        {
            await Step(interactive, "A lecturer deletes a lesson in Google Calendar and a meeting in Zoom by hand: both are put back and the lecturer told", async () =>
            {
                await DemoOutsideChanges.RunAsync(day, server, sandbox, services, () => DrainAsync(drainer, pump, tally, cancellationToken), cancellationToken);
                return 0;
            });
        }

        StartsSoonReport? startsSoon = null;
        if (day is not null)
        {
            startsSoon = await Step(interactive, "Ninety minutes before a lesson whose meeting message was poisoned: the starts-soon check", async () =>
            {
                var report = await StartsSoonAsync(storage, services, drainer, tally, cancellationToken);
                await DrainAsync(drainer, pump, tally, cancellationToken);
                return report;
            });
        }

        var verification = await Step(interactive, "Running the nightly jobs once and verifying the ledger", async () =>
        {
            await services.GetRequiredService<NightlyJobs>().RunAsync(cancellationToken);
            await DrainAsync(drainer, pump, tally, cancellationToken);
            return await services.GetRequiredService<LedgerVerifier>().VerifyAsync(cancellationToken);
        });

        var outside = new Dictionary<string, OutsideChangeCount>(StringComparer.Ordinal);
        var zoomDeferred = new HashSet<string>(StringComparer.Ordinal);
        var (siteNotifications, siteView) = await SiteNotificationsAsync(storage, outside, zoomDeferred, cancellationToken);
        var report = new DemoReport(
            EventCounts.From(tally),
            ProviderRequests(sandbox),
            new LedgerSummary(verification.Rows, verification.IsIntact),
            new DuplicateCounts(ZoomDuplicates(sandbox), GoogleDuplicates(sandbox)),
            new LeakCounts(Leaks(sandbox, services.GetRequiredService<DisclosurePolicy>())),
            siteNotifications,
            startsSoon is null ? null : new StartsSoonCounts(startsSoon.Checked, startsSoon.Rescued, startsSoon.AtRisk.Count),
            siteView,
            new OutsideChangeCounts(outside.GetValueOrDefault("google") ?? new(0, 0), outside.GetValueOrDefault("zoom") ?? new(0, 0)),
            new ZoomHostCounts(sandbox.Zoom.Meetings.Select(m => m.HostId).Distinct().Count(), sandbox.Zoom.OverlappingMeetings, zoomDeferred.Count));
        if (options.WireLog is not null)
        {
            await WireLog.WriteAsync(options.WireLog.FullName, sandbox.WireRequests().OrderBy(r => r.At).Select(r => r.Request), cancellationToken);
        }

        if (options.Json)
        {
            await stdout.WriteLineAsync(JsonSerializer.Serialize(report));
            return CliApplication.ExitOk;
        }

        var disclosures = await services.GetRequiredService<DisclosureExport>().ForMemberAsync(DemoDay.ShownMember, cancellationToken);
        PrintSummary(tally, report, verification, disclosures);
        return CliApplication.ExitOk;
    }

    private static async Task DrainAsync(QueueDrainer drainer, LocalQueuePump pump, DrainTally tally, CancellationToken cancellationToken)
    {
        // Intake first (tallied), then every other queue function until nothing is visible anywhere.
        int handled;
        do
        {
            var drained = await drainer.DrainAsync(cancellationToken: cancellationToken);
            tally.Merge(drained);
            handled = drained.Received + await pump.RunUntilIdleAsync(cancellationToken);
        }
        while (handled > 0);
    }

    /// <summary>Google's watch channels point at this server's notification route; the sync waits 200 ms for the burst.</summary>
    private static Dictionary<string, string?> DemoPushSettings(IReadOnlyDictionary<string, string?> settings, Uri baseUrl) => new(settings)
    {
        ["GoogleCalendar:NotificationAddress"] = new Uri(baseUrl, "api/" + CalendarNotifications.Route).ToString(),
        ["GoogleCalendar:NotificationDebounce"] = "00:00:00.200",
    };

    /// <summary>The lecturer's browser: connect link → Google's consent page → approve → our callback.</summary>
    internal static async Task ConnectAsync(LocalFunctionsServer server, SandboxEnvironment sandbox, string ticket, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });
        using var start = await http.GetAsync(new Uri(server.BaseUrl, $"api/calendar/connect?ticket={Uri.EscapeDataString(ticket)}"), cancellationToken);
        var cookie = start.Headers.GetValues("Set-Cookie").First().Split(';')[0];
        var consent = start.Headers.Location!;
        using (await http.GetAsync(consent, cancellationToken))
        {
        }

        var query = QueryHelpers.ParseQuery(consent.Query);
        var form = new[] { "redirect_uri", "state", "scope", "code_challenge", "access_type" }.ToDictionary(k => k, k => query[k].ToString());
        form["decision"] = "approve";
        using var decided = await http.PostAsync(new Uri(sandbox.Google.BaseAddress, "o/oauth2/v2/auth/decision"), new FormUrlEncodedContent(form), cancellationToken);
        using var callback = new HttpRequestMessage(HttpMethod.Get, decided.Headers.Location);
        callback.Headers.Add("Cookie", cookie);
        using var page = await http.SendAsync(callback, cancellationToken);
        if (page.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"The demo's Google connect flow ended with HTTP {(int)page.StatusCode}.");
        }
    }

    private static async Task AfternoonAsync(DemoDay day, LocalFunctionsServer server, SandboxEnvironment sandbox, IServiceProvider services, CancellationToken cancellationToken)
    {
        var storage = services.GetRequiredService<StorageAccount>();
        var bookings = storage.Table(TableNames.Bookings);
        var recorded = 0;
        foreach (var (lecturer, booking, _, bothConsent) in day.Bookings.Where(b => !day.Cancelled.Contains(b.BookingId)).Take(4))
        {
            var row = await bookings.GetEntityIfExistsAsync<TableEntity>(lecturer, booking, cancellationToken: cancellationToken);
            if (row.HasValue && long.TryParse(row.Value!.GetString("ZoomMeetingId"), out var meetingId) && recorded++ < 3)
            {
                // Zoom calls our webhook, signed, when a cloud recording is ready; consent decides what happens next.
                var body = sandbox.Zoom.RecordingCompletedBody(meetingId, sandbox.Settings()["Zoom:DefaultHostUserId"]!);
                using var _ = await sandbox.Zoom.SendWebhookAsync(new Uri(server.BaseUrl, "api/zoom/webhook"), body, cancellationToken: cancellationToken);
            }
        }

        var link = (await services.GetRequiredService<NewsletterSubscriptions>().HeadersAsync(DemoDay.UnsubscribingStudent, "cafetalk-news", cancellationToken)).UnsubscribeUrl;
        using (var http = new HttpClient())
        using (await http.PostAsync(link, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]), cancellationToken))
        {
        }

        await new EventPublisher(storage, services.GetRequiredService<BookingEventIntake>()).PublishAsync([SampleEvents.ErasureRequested(DemoDay.ErasedStudent)], cancellationToken);
    }

    /// <summary>
    /// A lesson booked for 90 minutes from now whose <c>zoom-converge</c> message ends on <c>zoom-converge-poison</c>, as the
    /// host leaves one that failed five times; the starts-soon check is what gives it its meeting (and then its calendar event).
    /// </summary>
    private static async Task<StartsSoonReport> StartsSoonAsync(StorageAccount storage, IServiceProvider services, QueueDrainer drainer, DrainTally tally, CancellationToken cancellationToken)
    {
        var soon = SampleEvents.Booking(EventTypes.BookingConfirmed, DemoDay.SoonBooking, 1, TimeProvider.System.GetUtcNow().AddMinutes(90), DemoDay.Lecturers[0], "stu_demo_3");
        await new EventPublisher(storage, services.GetRequiredService<BookingEventIntake>()).PublishAsync([soon], cancellationToken);
        tally.Merge(await drainer.DrainAsync(cancellationToken: cancellationToken)); // intake only

        // The queues were idle before this event: the one message on zoom-converge is its own.
        var converge = storage.Queue(QueueNames.ZoomConverge);
        var poisoned = storage.Queue(QueueNames.ZoomConverge + "-poison");
        await poisoned.CreateIfNotExistsAsync(cancellationToken: cancellationToken); // the host makes it with its first poisoned message
        foreach (var message in (await converge.ReceiveMessagesAsync(32, cancellationToken: cancellationToken)).Value)
        {
            await poisoned.SendMessageAsync(message.Body, cancellationToken: cancellationToken);
            await converge.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
        }

        return await services.GetRequiredService<StartsSoonCheck>().RunAsync(cancellationToken);
    }

    /// <summary>
    /// What the booking system received on <c>site-notifications</c>: messages by type (each checked against its schema),
    /// and per booking the notifications it now knows, each once however often it was delivered (the id is stable); <paramref name="outside"/> gains the changes made outside Cafetalk that the site was told of, by provider. <paramref name="zoomDeferred"/> gains the bookings the site was told had a Zoom problem (no free pool host, or still missing at the starts-soon check).
    /// </summary>
    private static async Task<(IReadOnlyDictionary<string, int> Counts, IReadOnlyList<SiteViewOfABooking> PerBooking)> SiteNotificationsAsync(StorageAccount storage, Dictionary<string, OutsideChangeCount> outside, HashSet<string> zoomDeferred, CancellationToken cancellationToken)
    {
        var queue = storage.Queue(QueueNames.SiteNotifications);
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var perBooking = new SortedDictionary<string, List<(string Id, string Shown)>>(StringComparer.Ordinal);
        while ((await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5), cancellationToken)).Value is { Length: > 0 } received)
        {
            foreach (var message in received)
            {
                using var notification = JsonDocument.Parse(message.Body.ToString());
                var type = notification.RootElement.GetProperty("type").GetString()!;
                var known = SiteNotificationTypes.Find(type);
                var fits = known is not null && SiteNotificationSchema.Problems(known, notification.RootElement.GetProperty("data")).Count == 0;
                counts[fits ? type : "outside-the-contract"] = counts.GetValueOrDefault(fits ? type : "outside-the-contract") + 1;
                if (fits && known!.IsAboutABooking)
                {
                    var root = notification.RootElement;
                    var version = root.GetProperty("data").GetProperty(SiteNotificationTypes.BookingVersionField).GetInt64();
                    var shown = $"{type["com.cafetalk.".Length..]} v{version}";
                    var bookingId = root.GetProperty("subject").GetString()!;
                    if (!perBooking.TryGetValue(bookingId, out var heard))
                    {
                        perBooking[bookingId] = heard = [];
                    }

                    heard.Add((root.GetProperty("id").GetString()!, shown));
                }

                if (fits && known == SiteNotificationTypes.ProviderProblem && notification.RootElement.GetProperty("data").GetProperty("provider").GetString() == "zoom")
                {
                    zoomDeferred.Add(notification.RootElement.GetProperty("subject").GetString()!);
                }

                if (fits && known == SiteNotificationTypes.ChangedOutside)
                {
                    var data = notification.RootElement.GetProperty("data");
                    var provider = data.GetProperty("provider").GetString()!;
                    var held = outside.GetValueOrDefault(provider) ?? new OutsideChangeCount(0, 0);
                    outside[provider] = new OutsideChangeCount(held.Seen + 1, held.Restored + (data.GetProperty("restored").GetBoolean() ? 1 : 0));
                }
            }
        }

        return (counts, [.. perBooking.Select(b => new SiteViewOfABooking(b.Key, [.. b.Value.DistinctBy(n => n.Id).Select(n => n.Shown)], b.Value.Count - b.Value.DistinctBy(n => n.Id).Count()))]);
    }

    /// <summary>
    /// What the pipeline sent to the providers' APIs: not the lecturer's browser at Google's consent page, and not the
    /// recording download (a read of Zoom's own file with its download token, no disclosure; `bench --scenario recording` counts it).
    /// </summary>
    private static IEnumerable<WireRequest> SentByThePipeline(SandboxEnvironment sandbox) =>
        sandbox.WireRequests().Select(r => r.Request)
            .Where(r => !(r.Provider == "google" && r.Path.StartsWith("/o/oauth2/", StringComparison.Ordinal)))
            .Where(r => !(r.Provider == "zoom" && r.Path.StartsWith("/rec/", StringComparison.Ordinal)));

    private static ProviderCounts ProviderRequests(SandboxEnvironment sandbox)
    {
        var sent = SentByThePipeline(sandbox).GroupBy(r => r.Provider).ToDictionary(g => g.Key, g => g.Count());
        return new ProviderCounts(sent.GetValueOrDefault("zoom"), sent.GetValueOrDefault("google"), sent.GetValueOrDefault("vimeo"), sent.GetValueOrDefault("mail"));
    }

    internal static int ZoomDuplicates(SandboxEnvironment sandbox) =>
        sandbox.Zoom.Meetings.GroupBy(m => m.Body["agenda"]?.GetValue<string>() ?? string.Empty).Sum(g => g.Count() - 1);

    internal static int GoogleDuplicates(SandboxEnvironment sandbox) =>
        sandbox.Google.Calendars.Sum(c => sandbox.Google.EventsOf(c.Id).Where(e => !e.Cancelled)
            .GroupBy(e => e.Body["start"]?["dateTime"]?.GetValue<string>() ?? e.Id).Sum(g => g.Count() - 1));

    internal static int Leaks(SandboxEnvironment sandbox, DisclosurePolicy policy)
    {
        var recipients = new Dictionary<string, Recipient>
        {
            ["zoom"] = DisclosurePolicy.Zoom, ["google"] = DisclosurePolicy.Google, ["vimeo"] = DisclosurePolicy.Vimeo, ["mail"] = DisclosurePolicy.MailService,
        };
        var outside = SentByThePipeline(sandbox).SelectMany(r => WireAudit.FieldsOutsideAllowlist(policy, recipients[r.Provider], r.Query, r.Body).Select(f => $"{r.Provider} {r.Method} {r.Path}: {f}")).ToList();
        if (Environment.GetEnvironmentVariable("CAFETALK_DEMO_DEBUG") == "1")
        {
            outside.ForEach(Console.Error.WriteLine);
        }

        return outside.Count;
    }

    private async Task<T> Step<T>(bool interactive, string text, Func<Task<T>> work) =>
        interactive ? await console.Status().StartAsync(text + "…", _ => work()) : await work();

    private void PrintSummary(DrainTally tally, DemoReport report, LedgerVerification verification, IReadOnlyList<DisclosureRecord> disclosures)
    {
        TallyView.Write(console, tally);
        var providers = new Table().Title("Requests each provider received").AddColumns("Zoom", "Google", "Vimeo", "mail service", "duplicate meetings", "duplicate events", "fields outside the allowlist");
        providers.AddRow(report.ProviderRequests!.Zoom.ToString(), report.ProviderRequests.Google.ToString(), report.ProviderRequests.Vimeo.ToString(),
            report.ProviderRequests.Mail.ToString(), report.Duplicates!.Zoom.ToString(), report.Duplicates.Google.ToString(), report.Leaks!.FieldsOutsideAllowlist.ToString());
        console.Write(providers);
        console.MarkupLine($"Zoom hosts: {report.ZoomHosts!.Used} hold meetings, {report.ZoomHosts.Overlaps} pair(s) of meetings overlap on one host (lecturers without their own Zoom user share the pool), {report.ZoomHosts.Deferred} lesson(s) whose meeting was put off (the site told of a Zoom problem).");
        var site = new Table().Title("What the booking system heard back (site-notifications)").AddColumns("type", "count");
        foreach (var (type, count) in report.SiteNotifications ?? new Dictionary<string, int>())
        {
            site.AddRow(type, count.ToString());
        }

        console.Write(site);
        var view = new Table().Title("The site's view, per booking (each notification once: a redelivery has the same id)").AddColumns("booking", "what the site knows", "redelivered");
        foreach (var booking in report.SiteView ?? [])
        {
            view.AddRow(Markup.Escape(booking.BookingId), Markup.Escape(string.Join(", ", booking.Notifications)), booking.Redelivered.ToString());
        }

        console.Write(view);
        if (report.StartsSoon is { } soon)
        {
            console.MarkupLine($"Starts-soon check: {soon.Checked} lesson(s) within 2 hours, {soon.Rescued} put right by its one more try, {soon.AtRisk} still at risk.");
        }

        if (report.OutsideChanges is { } hand)
        {
            console.MarkupLine($"Changed by hand outside Cafetalk: Google {hand.Google.Seen} seen, {hand.Google.Restored} put back; Zoom {hand.Zoom.Seen} seen, {hand.Zoom.Restored} put back (the lecturer told each time).");
        }

        console.MarkupLine(verification.IsIntact
            ? $"Ledger: {verification.Rows} rows in {verification.Chains} chains, [green]verified[/] (hash chains intact, heads match the digest)."
            : $"Ledger: {verification.Rows} rows, [red]{verification.Findings.Count} finding(s)[/]: {Markup.Escape(string.Join("; ", verification.Findings.Take(3)))}");
        var table = new Table().Title($"To whom {DemoDay.ShownMember}'s data went (APPI Art. 33(5))").AddColumns("provided (UTC)", "recipient", "country", "data items", "purpose", "outcome");
        foreach (var d in disclosures)
        {
            table.AddRow(d.ProvidedAtUtc.ToString("yyyy-MM-dd HH:mm:ss"), Markup.Escape(d.Recipient), Markup.Escape(d.Country),
                Markup.Escape(string.Join(" ", d.DataItems)), Markup.Escape(d.Purpose), Markup.Escape(d.Outcome));
        }

        console.Write(table);
    }
}
