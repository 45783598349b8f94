using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Cli.Demo;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Operations;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Zoom;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Vimeo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace Cafetalk.Integrations.Cli.Bench;

/// <summary>What <c>bench</c> was asked to measure.</summary>
internal sealed record BenchOptions(
    IReadOnlySet<string> Scenarios,
    int Bookings,
    int Lecturers,
    int Parallelism,
    int RateBookings,
    int SyncLecturers,
    int SyncBookingsPerLecturer,
    int MemoryBookings,
    int RecordingMegabytes,
    bool Json,
    int OutsideEdits = 100,
    int PoolHosts = 0);

/// <summary>
/// The end-to-end load run: each scenario starts its own Sandbox, drives the real functions through the local
/// queue pump at a set parallelism, and reports counts and ratios — requests per booking, storage operations
/// per event, throughput as a fraction of what the same Azurite allows — that do not depend on this machine's speed.
/// </summary>
internal sealed class BenchRunner(IAnsiConsole console, TextWriter stdout)
{
    public static readonly string[] AllScenarios = ["pipeline", "zoom-rate", "nightly-sync", "nightly-memory", "recording", "outside-changes"];

    private static readonly TimeSpan BaselineDuration = TimeSpan.FromSeconds(5);

    public async Task<int> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var report = new BenchReport(
            options.Scenarios.Contains("pipeline") ? await Step(options, "pipeline: confirm, reschedule and cancel through every function", () => PipelineAsync(options, cancellationToken)) : null,
            options.Scenarios.Contains("zoom-rate") ? await Step(options, "zoom-rate: bookings against Zoom's per-second budget", () => ZoomRateAsync(options, cancellationToken)) : null,
            options.Scenarios.Contains("nightly-sync") ? await Step(options, "nightly-sync: requests of one nightly run", () => NightlySyncAsync(options, cancellationToken)) : null,
            options.Scenarios.Contains("nightly-memory") ? await Step(options, "nightly-memory: peak memory of the nightly jobs", () => NightlyMemoryAsync(options, cancellationToken)) : null,
            options.Scenarios.Contains("recording") ? await Step(options, "recording: a large recording from Zoom to Vimeo", () => RecordingAsync(options, cancellationToken)) : null,
            options.Scenarios.Contains("outside-changes") ? await Step(options, "outside-changes: hand edits in Google put back through push", () => OutsideChangesBench.RunAsync(options.OutsideEdits, options.Lecturers, 10, options.Parallelism, cancellationToken)) : null);
        var json = JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = !options.Json });
        if (!options.Json)
        {
            console.MarkupLine("[bold]Benchmark figures[/] (counts and ratios; seconds are this machine's)");
        }

        await stdout.WriteLineAsync(json);
        return CliApplication.ExitOk;
    }

    private async Task<T> Step<T>(BenchOptions options, string text, Func<Task<T>> work)
    {
        if (options.Json || Console.IsOutputRedirected)
        {
            return await work();
        }

        return await console.Status().StartAsync(text + "…", _ => work());
    }

    private static async Task<PipelineFigures> PipelineAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        // Providers must not be the bottleneck here: this run measures our storage path, the rate run measures Zoom's budget.
        await using var bench = await BenchSandbox.StartAsync(new Dictionary<string, string?> { ["Zoom:RequestsPerSecond"] = "200" }, cancellationToken);
        bench.Sandbox.Zoom.RequestsPerSecond = int.MaxValue;
        var lecturers = Lecturers("lec_bench", options.Lecturers);
        if (options.PoolHosts > 0)
        {
            // No lecturer has their own Zoom user: every lesson is placed on the pool.
            await bench.Storage.EnsureProvisionedAsync(cancellationToken);
            for (var h = 0; h < options.PoolHosts; h++)
            {
                await bench.Services.GetRequiredService<Zoom.ZoomHostPool>().AddAsync($"pool-host-{h:D3}", 1, null, cancellationToken);
            }
        }
        else
        {
            await bench.AssignZoomHostsAsync(lecturers, cancellationToken);
        }

        await bench.ConnectCalendarsAsync(lecturers, cancellationToken);
        await bench.Pump.RunUntilIdleAsync(options.Parallelism, cancellationToken);
        // The setup's notifications (calendars connected) are the site's before the phases start: not a phase's.
        await StorageAccount.FromConnectionString(bench.Sandbox.StorageConnectionString).Queue(QueueNames.SiteNotifications).ClearMessagesAsync(cancellationToken);

        var baseline = await BaselineAsync(bench, options.Parallelism, options.Bookings, cancellationToken);
        var tomorrow = Tomorrow();
        var bookings = Enumerable.Range(0, options.Bookings)
            .Select(i => (Lecturer: lecturers[i % lecturers.Count], BookingId: $"bk_bench_{i:D5}", Student: $"stu_bench_{i % 97:D3}", StartsAt: tomorrow.AddMinutes(30 * (i / lecturers.Count))))
            .ToList();
        var phases = new List<PhaseFigures>
        {
            await PhaseAsync(bench, baseline, "confirm", bookings.Select(b => SampleEvents.Booking(EventTypes.BookingConfirmed, b.BookingId, 1, b.StartsAt, b.Lecturer, b.Student)), options, cancellationToken),
            await PhaseAsync(bench, baseline, "reschedule", bookings.Select(b => SampleEvents.Booking(EventTypes.BookingRescheduled, b.BookingId, 2, b.StartsAt.AddDays(1), b.Lecturer, b.Student)), options, cancellationToken),
            await PhaseAsync(bench, baseline, "cancel", bookings.Select(b => SampleEvents.Booking(EventTypes.BookingCancelled, b.BookingId, 3, b.StartsAt.AddDays(1), b.Lecturer, b.Student)), options, cancellationToken),
        };
        var verification = await bench.Services.GetRequiredService<LedgerVerifier>().VerifyAsync(cancellationToken);
        return new PipelineFigures(options.Bookings, lecturers.Count, options.Parallelism, baseline, phases,
            DemoRunner.ZoomDuplicates(bench.Sandbox), DemoRunner.GoogleDuplicates(bench.Sandbox),
            DemoRunner.Leaks(bench.Sandbox, bench.Services.GetRequiredService<DisclosurePolicy>()), verification.Rows, verification.IsIntact)
        {
            PoolHosts = options.PoolHosts,
            ZoomHostOverlaps = bench.Sandbox.Zoom.OverlappingMeetings,
        };
    }

    private static async Task<PhaseFigures> PhaseAsync(BenchSandbox bench, StorageBaseline baseline, string phase, IEnumerable<string> events, BenchOptions options, CancellationToken cancellationToken)
    {
        var messages = events.ToList();
        await bench.PublishAsync(messages, cancellationToken);
        var zoomBefore = bench.Sandbox.Zoom.Requests.Count;
        var googleBefore = bench.Sandbox.Google.Requests.Count;
        var storageBefore = bench.Counter.Snapshot();
        var kindsBefore = bench.Counter.SnapshotByKind();
        var azuriteBefore = bench.Sandbox.Azurite.ProcessorTime;
        var clock = Stopwatch.StartNew();
        using var phaseDone = new CancellationTokenSource();
        var site = new SiteReader(bench.Sandbox.StorageConnectionString);
        var reading = site.ReadUntilAsync(phaseDone.Token, cancellationToken);
        await bench.Pump.RunUntilIdleAsync(options.Parallelism, cancellationToken);
        var seconds = clock.Elapsed.TotalSeconds;
        await phaseDone.CancelAsync();
        await reading;
        var azuriteBusy = (bench.Sandbox.Azurite.ProcessorTime - azuriteBefore).TotalSeconds / seconds;
        var storage = bench.Counter.Snapshot() - storageBefore;
        var byKind = bench.Counter.SnapshotByKind()
            .Select(k => (k.Key, Count: k.Value - kindsBefore.GetValueOrDefault(k.Key)))
            .Where(k => k.Count > 0)
            .OrderByDescending(k => k.Count).ThenBy(k => k.Key, StringComparer.Ordinal)
            .ToDictionary(k => k.Key, k => Math.Round((double)k.Count / messages.Count, 2), StringComparer.Ordinal);
        var zoom = bench.Sandbox.Zoom.Requests.Skip(zoomBefore).ToList();
        var google = bench.Sandbox.Google.Requests.Skip(googleBefore).ToList();
        double PerEvent(long count) => Math.Round((double)count / messages.Count, 2);
        // Storage-bound rate: the time the same Azurite needs for one event's table, queue and blob operations at this parallelism.
        var storageSecondsPerEvent = ((storage.Table + storage.Blob) / baseline.TableOperationsPerSecond + storage.Queue / baseline.QueueOperationsPerSecond) / messages.Count;
        // The same with queue operations at the rate Azurite keeps while the phase's own backlog waits in the account.
        var storageSecondsPerEventWithBacklog = ((storage.Table + storage.Blob) / baseline.TableOperationsPerSecond + storage.Queue / baseline.QueueOperationsPerSecondWithBacklog) / messages.Count;
        var eventsPerSecond = messages.Count / seconds;
        return new PhaseFigures(phase, messages.Count, Math.Round(seconds, 1), Math.Round(eventsPerSecond, 1),
            PerEvent(storage.Table), PerEvent(storage.TableBatches), PerEvent(storage.Queue), PerEvent(storage.Blob), PerEvent(storage.Total),
            Math.Round(1 / storageSecondsPerEvent, 1), Math.Round(eventsPerSecond * storageSecondsPerEvent, 2),
            Math.Round(1 / storageSecondsPerEventWithBacklog, 1), Math.Round(eventsPerSecond * storageSecondsPerEventWithBacklog, 2), Math.Round(azuriteBusy, 2),
            PerEvent(zoom.Count(r => r.IsApi)), PerEvent(google.Count(r => r.IsCalendarApi)),
            zoom.Count(r => r.IsToken), google.Count(r => r.Path == "/token"), byKind,
            new SiteFigures(site.ByType.ToDictionary(t => t.Key, t => PerEvent(t.Value), StringComparer.Ordinal), site.Redelivered));
    }

    /// <summary>
    /// The booking system reading <c>site-notifications</c> while a phase runs, as it would in production: left unread,
    /// the queue's backlog would slow Azurite's every queue operation and be measured as the pipeline's cost.
    /// </summary>
    private sealed class SiteReader(string connectionString)
    {
        private readonly HashSet<string> _ids = new(StringComparer.Ordinal);

        public SortedDictionary<string, long> ByType { get; } = new(StringComparer.Ordinal);

        public int Redelivered { get; private set; }

        public async Task ReadUntilAsync(CancellationToken phaseDone, CancellationToken cancellationToken)
        {
            // Its own client: these are the site's requests, not the pipeline's, so the counter does not see them.
            var queue = StorageAccount.FromConnectionString(connectionString).Queue(QueueNames.SiteNotifications);
            while (true)
            {
                var received = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5), cancellationToken)).Value;
                foreach (var message in received)
                {
                    using var notification = JsonDocument.Parse(message.Body.ToString());
                    var type = notification.RootElement.GetProperty("type").GetString()!;
                    ByType[type] = ByType.GetValueOrDefault(type) + 1;
                    Redelivered += _ids.Add(notification.RootElement.GetProperty("id").GetString()!) ? 0 : 1;
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                }

                if (received.Length == 0)
                {
                    if (phaseDone.IsCancellationRequested)
                    {
                        return;
                    }

                    // Real time on purpose: a reader polling an empty queue, as the site's would.
                    await Task.Delay(200, cancellationToken);
                }
            }
        }
    }

    /// <summary>
    /// Azurite's raw rate at the same parallelism: table upserts and point reads, queue send + receive + delete — on a
    /// near-empty queue, then on one holding <paramref name="backlog"/> messages (Azurite's in-memory queue store
    /// re-sorts and re-indexes the account's messages on receives and deletes, so its rate falls as messages wait).
    /// </summary>
    private static async Task<StorageBaseline> BaselineAsync(BenchSandbox bench, int parallelism, int backlog, CancellationToken cancellationToken)
    {
        var storage = StorageAccount.FromConnectionString(bench.Sandbox.StorageConnectionString);
        var table = storage.Table("BenchBaseline");
        await table.CreateIfNotExistsAsync(cancellationToken);
        var queue = storage.Queue("bench-baseline");
        await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var payload = new string('x', 600);

        var tableRate = await RateAsync(parallelism, async (worker, i) =>
        {
            if (i % 2 == 0)
            {
                await table.UpsertEntityAsync(new TableEntity($"w{worker}", $"r{i % 64}") { ["Payload"] = payload, ["Version"] = i }, TableUpdateMode.Replace, cancellationToken);
            }
            else
            {
                await table.GetEntityAsync<TableEntity>($"w{worker}", $"r{(i - 1) % 64}", cancellationToken: cancellationToken);
            }

            return 1;
        });
        var queueRate = await QueueRateAsync(queue, parallelism, payload, cancellationToken);

        var waiting = storage.Queue("bench-baseline-backlog");
        await waiting.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await Parallel.ForEachAsync(Enumerable.Range(0, backlog), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (_, ct) => await waiting.SendMessageAsync(payload, ct));
        // Each send adds one and each receive + delete takes the oldest away, so the backlog holds steady while measured.
        var queueRateWithBacklog = await QueueRateAsync(waiting, parallelism, payload, cancellationToken);
        await waiting.DeleteAsync(cancellationToken);
        return new StorageBaseline(parallelism, Math.Round(tableRate), Math.Round(queueRate), backlog, Math.Round(queueRateWithBacklog));
    }

    private static Task<double> QueueRateAsync(QueueClient queue, int parallelism, string payload, CancellationToken cancellationToken) =>
        RateAsync(parallelism, async (_, _) =>
        {
            await queue.SendMessageAsync(payload, cancellationToken);
            var received = await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30), cancellationToken);
            foreach (var message in received.Value)
            {
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
            }

            return 2 + received.Value.Length;
        });

    private static async Task<double> RateAsync(int parallelism, Func<int, int, Task<int>> operation)
    {
        long operations = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, parallelism).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; clock.Elapsed < BaselineDuration; i++)
            {
                Interlocked.Add(ref operations, await operation(worker, i));
            }
        })));
        return operations / clock.Elapsed.TotalSeconds;
    }

    private static async Task<ZoomRateFigures> ZoomRateAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        // Zoom's Medium budget as the simulator enforces it, and the app at its default Zoom:RequestsPerSecond.
        await using var bench = await BenchSandbox.StartAsync(new Dictionary<string, string?>(), cancellationToken);
        const int limit = 20;
        bench.Sandbox.Zoom.RequestsPerSecond = limit;
        var lecturers = Lecturers("lec_rate", Math.Max(1, options.RateBookings / 10));
        await bench.AssignZoomHostsAsync(lecturers, cancellationToken);
        var tomorrow = Tomorrow();
        await bench.PublishAsync(Enumerable.Range(0, options.RateBookings).Select(i =>
            SampleEvents.Booking(EventTypes.BookingConfirmed, $"bk_rate_{i:D5}", 1, tomorrow.AddMinutes(30 * (i / lecturers.Count)), lecturers[i % lecturers.Count], $"stu_rate_{i % 97:D3}")), cancellationToken);
        // Every other function first, so the 600 wait on zoom-converge together and Zoom's budget is what limits the run.
        await bench.Pump.RunUntilIdleAsync(options.Parallelism, f => f.Queue != QueueNames.ZoomConverge, cancellationToken);
        await bench.Pump.RunUntilIdleAsync(options.Parallelism, f => f.Queue == QueueNames.ZoomConverge, cancellationToken);

        var api = bench.Sandbox.Zoom.Requests.Where(r => r.IsApi).ToList();
        var served = api.Where(r => r.Status < 400).ToList();
        var throttled = api.Count(r => r.Status == 429);
        var seconds = (served[^1].ReceivedAtUtc - served[0].ReceivedAtUtc).TotalSeconds;
        var achieved = (served.Count - 1) / seconds;
        var meetings = bench.Sandbox.Zoom.Meetings;
        var withMeeting = meetings.Select(m => m.Body["agenda"]?.GetValue<string>()).Distinct().Count();
        return new ZoomRateFigures(options.RateBookings, limit, api.Count, throttled, Math.Round((double)throttled / api.Count, 4), Math.Round(seconds, 1),
            Math.Round(achieved, 2), Math.Round(achieved / limit, 3),
            served.GroupBy(r => r.ReceivedAtUtc.ToUnixTimeSeconds()).Max(g => g.Count()),
            meetings.Count, options.RateBookings - withMeeting, DemoRunner.ZoomDuplicates(bench.Sandbox));
    }

    /// <summary>Booking events published at a time while a scenario sets up its world.</summary>
    private const int SetupChunk = 500;

    private static async Task<NightlySyncFigures> NightlySyncAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        await using var bench = await BenchSandbox.StartAsync(new Dictionary<string, string?> { ["Zoom:RequestsPerSecond"] = "200" }, cancellationToken);
        bench.Sandbox.Zoom.RequestsPerSecond = int.MaxValue;
        var lecturers = Lecturers("lec_sync", options.SyncLecturers);
        await bench.AssignZoomHostsAsync(lecturers, cancellationToken);
        await bench.ConnectCalendarsAsync(lecturers, cancellationToken);
        var tomorrow = Tomorrow();
        var confirms = lecturers.SelectMany((lecturer, l) => Enumerable.Range(0, options.SyncBookingsPerLecturer).Select(b =>
            SampleEvents.Booking(EventTypes.BookingConfirmed, $"bk_sync_{l:D4}_{b:D2}", 1, tomorrow.AddHours(b), lecturer, $"stu_sync_{(l + b) % 97:D3}")));
        // In chunks, each drained before the next: Azurite's in-memory queues sort every waiting message of the account
        // on each receive, so a 10,000-message backlog makes setup quadratic. Only the nightly run below is measured.
        foreach (var chunk in confirms.Chunk(SetupChunk))
        {
            await bench.PublishAsync(chunk, cancellationToken);
            await bench.Pump.RunUntilIdleAsync(options.Parallelism, cancellationToken);
        }

        // 1% of the events changed by their lecturers in Google Calendar: half moved, half deleted.
        var google = bench.Sandbox.Google;
        var events = google.Calendars.SelectMany(c => google.EventsOf(c.Id).Where(e => !e.Cancelled).Select(e => (Calendar: c, Event: e))).ToList();
        var random = new Random(20261125);
        var changed = events.OrderBy(_ => random.Next()).Take(Math.Max(1, events.Count / 100)).ToList();
        foreach (var (change, index) in changed.Select((c, i) => (c, i)))
        {
            if (index % 2 == 0)
            {
                google.EditByHand(change.Calendar.Id, change.Event.Id, body => body["start"]!["dateTime"] = "2030-01-01T00:00:00+00:00");
            }
            else
            {
                google.DeleteByHand(change.Calendar.Id, change.Event.Id);
            }
        }

        var googleBefore = google.Requests.Count;
        var zoomBefore = bench.Sandbox.Zoom.Requests.Count;
        await bench.Services.GetRequiredService<NightlyJobs>().RunAsync(cancellationToken);
        await bench.Pump.RunUntilIdleAsync(options.Parallelism, cancellationToken);
        var nightly = google.Requests.Skip(googleBefore).ToList();
        var api = nightly.Where(r => r.IsCalendarApi).ToList();
        var changedAccounts = changed.Select(c => c.Calendar.Account).ToHashSet();
        var unchangedMax = api.Where(r => r.Account is not null && !changedAccounts.Contains(r.Account)).GroupBy(r => r.Account).Select(g => g.Count()).DefaultIfEmpty(0).Max();
        var budget = (lecturers.Count - changedAccounts.Count) + (2 * changed.Count);
        var restored = changed.Count(c => google.EventsOf(c.Calendar.Id).Any(e => e.Id == c.Event.Id && !e.Cancelled
            && e.Body["start"]?["dateTime"]?.ToJsonString() == c.Event.Body["start"]?["dateTime"]?.ToJsonString()));
        return new NightlySyncFigures(lecturers.Count, options.SyncBookingsPerLecturer, changed.Count, changedAccounts.Count, api.Count,
            nightly.Count(r => r.Path == "/token"), bench.Sandbox.Zoom.Requests.Skip(zoomBefore).Count(r => r.IsApi), unchangedMax, budget, api.Count <= budget, restored);
    }

    private static async Task<NightlyMemoryFigures> NightlyMemoryAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        await using var bench = await BenchSandbox.StartAsync(new Dictionary<string, string?> { ["Zoom:RequestsPerSecond"] = "200" }, cancellationToken);
        bench.Sandbox.Zoom.RequestsPerSecond = int.MaxValue;
        const string templateLecturer = "lec_mem_template";
        await bench.AssignZoomHostsAsync([templateLecturer], cancellationToken);
        var tomorrow = Tomorrow();
        await bench.PublishAsync(Enumerable.Range(0, 20).Select(i =>
            SampleEvents.Booking(EventTypes.BookingConfirmed, $"bk_mem_template_{i:D2}", 1, tomorrow.AddHours(i), templateLecturer, $"stu_mem_{i:D3}")), cancellationToken);
        await bench.Pump.RunUntilIdleAsync(options.Parallelism, cancellationToken);

        // The table as it stands after convergence, at scale: converged rows cloned under new keys (100 per lecturer).
        var bookings = bench.Storage.Table(TableNames.Bookings);
        var templates = await bookings.QueryAsync<TableEntity>(e => e.PartitionKey == templateLecturer, cancellationToken: cancellationToken).ToListAsync(cancellationToken);
        const int smallScale = 1_000;
        await CloneAsync(bookings, templates, 0, Math.Min(smallScale, options.MemoryBookings), cancellationToken);
        var (smallPeak, _, _) = await RunSyncProcessAsync(bench, cancellationToken);
        await CloneAsync(bookings, templates, smallScale, options.MemoryBookings, cancellationToken);
        var (peak, seconds, checkedRows) = await RunSyncProcessAsync(bench, cancellationToken);
        return new NightlyMemoryFigures(options.MemoryBookings + templates.Count, peak, smallPeak, smallScale + templates.Count, Math.Round(seconds, 1), checkedRows);
    }

    private static async Task CloneAsync(TableClient bookings, List<TableEntity> templates, int from, int to, CancellationToken cancellationToken)
    {
        var partitions = Enumerable.Range(from / 100, (to - from + 99) / 100);
        await Parallel.ForEachAsync(partitions, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (partition, ct) =>
        {
            var lecturer = $"lec_mem_{partition:D4}";
            var actions = Enumerable.Range(partition * 100, 100).Where(k => k >= from && k < to).Select(k =>
            {
                var row = new TableEntity(templates[k % templates.Count]) { PartitionKey = lecturer, RowKey = $"bk_mem_{k:D6}" };
                row.ETag = default;
                return new TableTransactionAction(TableTransactionActionType.UpsertReplace, row);
            }).ToList();
            await bookings.SubmitTransactionAsync(actions, ct);
        });
    }

    /// <summary>
    /// One recording of <see cref="BenchOptions.RecordingMegabytes"/> through the real path: Zoom's signed webhook, the
    /// zoom-events function, the download (Authorization header, redirect) streamed into Vimeo's tus upload. It runs
    /// twice. First in this process after a 1 MB warm-up, its working set sampled every 20 ms: that figure includes the
    /// simulators and the local host. Then with the zoom-events function alone in a child process, as the Functions
    /// worker runs it in Azure, its resident memory read from the kernel.
    /// </summary>
    private static async Task<RecordingFigures> RecordingAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        await using var bench = await BenchSandbox.StartAsync(new Dictionary<string, string?>(), cancellationToken);
        var lecturer = "lec_bench_rec";
        await bench.AssignZoomHostsAsync([lecturer], cancellationToken);
        var pumpEverything = () => bench.Pump.RunUntilIdleAsync(4, cancellationToken);

        async Task<(TimeSpan Elapsed, SimulatedRecording Recording)> RecordAsync(string bookingId, long bytes, Func<Task> runZoomEvents)
        {
            await bench.PublishAsync([SampleEvents.Booking(EventTypes.BookingConfirmed, bookingId, 1, Tomorrow(), lecturer, "stu_bench_rec")], cancellationToken);
            await bench.Pump.RunUntilIdleAsync(4, cancellationToken);
            var row = (await bench.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>(lecturer, bookingId, cancellationToken: cancellationToken)).Value;
            var meetingId = long.Parse(row.GetString("ZoomMeetingId")!, CultureInfo.InvariantCulture);
            bench.Sandbox.Zoom.RecordingBytes = bytes;
            bench.Sandbox.Zoom.ClearRequests();
            bench.Sandbox.Vimeo.ClearRequests();
            var clock = Stopwatch.StartNew();
            var body = bench.Sandbox.Zoom.RecordingCompletedBody(meetingId, $"host-{lecturer}");
            var recording = bench.Sandbox.Zoom.Recordings.Single(r => r.MeetingId == meetingId);
            using (await bench.Sandbox.Zoom.SendWebhookAsync(new Uri(bench.Server.BaseUrl, "api/zoom/webhook"), body, cancellationToken: cancellationToken))
            {
            }

            await runZoomEvents();
            return (clock.Elapsed, recording);
        }

        await RecordAsync("bk_bench_rec_warmup", 1024 * 1024, pumpEverything);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var before = self.WorkingSet64;
        var allocatedBefore = GC.GetTotalAllocatedBytes();
        long sampledPeak = before;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                self.Refresh();
                sampledPeak = Math.Max(sampledPeak, self.WorkingSet64);
                await Task.Delay(TimeSpan.FromMilliseconds(20), CancellationToken.None);
            }
        }, CancellationToken.None);

        var size = options.RecordingMegabytes * 1024L * 1024L;
        var (elapsed, recording) = await RecordAsync("bk_bench_rec", size, pumpEverything);
        await sampling.CancelAsync();
        await sampler;
        var benchProcess = RecordingRun(bench, "bench process: simulators, local Functions host and pipeline", size, recording, elapsed.TotalSeconds,
            ResidentMemory.OfThisProcess().PeakBytes, sampledPeak, before, GC.GetTotalAllocatedBytes() - allocatedBefore, ProcessRuntime.OfThisProcess());

        // Again with the zoom-events function alone in its own process: the parent only answers as Zoom, Vimeo and Azurite.
        ChildRun? worker = null;
        var (_, workerRecording) = await RecordAsync("bk_bench_rec_worker", size, async () =>
        {
            worker = await RunChildAsync(bench, "recording", ["bench", RecordingWorkerCommand.Name], cancellationToken, FunctionsRuntimeConfig());
            await bench.Pump.RunUntilIdleAsync(4, cancellationToken); // whatever the recording queued for other functions
        });
        var report = worker!.Report.Deserialize<RecordingWorkerReport>(JsonSerializerOptions.Web)!;
        var workerProcess = RecordingRun(bench, "worker process: the zoom-events function alone", size, workerRecording, report.Seconds,
            Math.Max(worker.PeakResidentBytes, report.PeakResidentBytes), worker.PeakResidentSampledBytes, null, report.ManagedBytesAllocated, report.Runtime);
        return new RecordingFigures(size, bench.Services.GetRequiredService<IOptions<VimeoOptions>>().Value.UploadChunkBytes, benchProcess, workerProcess);
    }

    /// <summary>The figures of one recording's run; the requests are those the simulators saw since the webhook.</summary>
    private static RecordingRunFigures RecordingRun(BenchSandbox bench, string ranIn, long size, SimulatedRecording recording, double seconds,
        long peakResident, long sampledPeak, long? residentBefore, long allocated, ProcessRuntime runtime)
    {
        var video = bench.Sandbox.Vimeo.Videos.LastOrDefault(v => v.UploadSize == size);
        var zoom = bench.Sandbox.Zoom.Requests;
        var vimeo = bench.Sandbox.Vimeo.Requests;
        return new RecordingRunFigures(ranIn, Math.Round(seconds, 2), Math.Round(size / 1024d / 1024d / seconds, 1),
            peakResident, sampledPeak, residentBefore, allocated, runtime,
            zoom.Count(r => r.IsApi), zoom.Count(r => r.Path.StartsWith("/rec/", StringComparison.Ordinal)), zoom.Count(r => r.IsToken),
            vimeo.Count(r => !r.Path.StartsWith("/files/", StringComparison.Ordinal)), vimeo.Count(r => r.Path.StartsWith("/files/", StringComparison.Ordinal)),
            video?.ReceivedBytes ?? 0, video?.UploadStatus, video?.ReceivedSha256 == recording.Sha256(), bench.Sandbox.Zoom.Recordings.All(r => r.MeetingId != recording.MeetingId));
    }

    /// <summary>Runs <c>sync</c> as its own process, as the timer would, and reads its resident-set high-water mark.</summary>
    private static async Task<(long PeakBytes, double Seconds, int Checked)> RunSyncProcessAsync(BenchSandbox bench, CancellationToken cancellationToken)
    {
        var sync = await RunChildAsync(bench, "nightly-memory", ["sync"], cancellationToken);
        return (sync.PeakResidentBytes, sync.Seconds, sync.Report["zoomBookingsChecked"]!.GetValue<int>());
    }

    /// <summary>What a CLI command run as a child process printed, and its resident memory as the kernel counted it while it ran.</summary>
    private sealed record ChildRun(JsonNode Report, long PeakResidentBytes, long PeakResidentSampledBytes, double Seconds);

    /// <summary>
    /// Runs this CLI with <paramref name="arguments"/> as its own process, with the scenario's settings as environment
    /// variables (as app settings reach a Functions worker), and polls its VmHWM and VmRSS every 20 ms.
    /// </summary>
    private static async Task<ChildRun> RunChildAsync(BenchSandbox bench, string scenario, IReadOnlyList<string> arguments, CancellationToken cancellationToken,
        string? runtimeConfig = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (runtimeConfig is not null)
        {
            // The runtime settings (GC mode, globalization) the deployed Functions app runs with, not the CLI's.
            start.ArgumentList.Add("exec");
            start.ArgumentList.Add("--runtimeconfig");
            start.ArgumentList.Add(runtimeConfig);
        }

        start.ArgumentList.Add(typeof(BenchRunner).Assembly.Location);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in bench.Settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new SandboxException($"The {scenario} run could not start its {arguments[0]} process.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        long peak = 0, sampledPeak = 0;
        while (!process.HasExited)
        {
            var memory = ResidentMemory.OfProcess(process.Id);
            peak = Math.Max(peak, memory.PeakBytes);
            sampledPeak = Math.Max(sampledPeak, memory.CurrentBytes);
            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
        }

        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new SandboxException($"The {scenario} run's {arguments[0]} process exited with {process.ExitCode}: {Tail(await errors)}");
        }

        return new ChildRun(JsonNode.Parse(await output)!, peak, sampledPeak, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The Functions app's runtimeconfig.json, copied beside this CLI by its project reference.</summary>
    private static string FunctionsRuntimeConfig()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Cafetalk.Integrations.Functions.runtimeconfig.json");
        return File.Exists(path) ? path : throw new SandboxException($"The recording worker needs the Functions app's runtime settings, and {Path.GetFileName(path)} is not beside the CLI: build the solution.");
    }

    private static string Tail(string text) => text.Length > 2000 ? text[^2000..] : text;

    private static List<string> Lecturers(string prefix, int count) => Enumerable.Range(1, count).Select(i => $"{prefix}_{i:D4}").ToList();

    private static DateTimeOffset Tomorrow()
    {
        var now = TimeProvider.System.GetUtcNow();
        return new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddDays(1).AddHours(6);
    }
}
