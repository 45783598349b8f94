using System.Diagnostics;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Google;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.Cli.Bench;

/// <summary>
/// <c>bench --scenario outside-changes</c>: lessons changed by hand in the Google simulator (half deleted, half moved),
/// one every quarter second across the edited lecturers, with Google's push notifications flowing to our webhook and
/// the functions pumped as the host would; the time from each hand edit to its restore, with no notification dropped
/// and with 10% dropped (a dropped one is caught by the calendar's next notification, or left to the nightly pass).
/// Then the nightly pass's requests for the quiet lecturers, who changed nothing.
/// </summary>
internal static class OutsideChangesBench
{
    private const int BookingsPerLecturer = 10;
    private static readonly TimeSpan Spacing = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(20);

    public static async Task<OutsideChangesFigures> RunAsync(int edits, int editedLecturers, int quietLecturers, int parallelism, CancellationToken cancellationToken)
    {
        await using var bench = await BenchSandbox.StartAsync(new Dictionary<string, string?> { ["Zoom:RequestsPerSecond"] = "200" }, cancellationToken, push: true);
        bench.Sandbox.Zoom.RequestsPerSecond = int.MaxValue;
        var google = bench.Sandbox.Google;
        var edited = Enumerable.Range(1, editedLecturers).Select(i => $"lec_out_{i:D4}").ToList();
        var quiet = Enumerable.Range(1, quietLecturers).Select(i => $"lec_quiet_{i:D4}").ToList();
        var lecturers = edited.Concat(quiet).ToList();
        await bench.AssignZoomHostsAsync(lecturers, cancellationToken);
        await bench.ConnectCalendarsAsync(lecturers, cancellationToken);
        var tomorrow = new DateTimeOffset(TimeProvider.System.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero).AddDays(1).AddHours(6);
        await bench.PublishAsync(lecturers.SelectMany((lecturer, l) => Enumerable.Range(0, BookingsPerLecturer).Select(b =>
            SampleEvents.Booking(EventTypes.BookingConfirmed, $"bk_out_{l:D4}_{b:D2}", 1, tomorrow.AddHours(b), lecturer, $"stu_out_{(l + b) % 97:D3}"))), cancellationToken);
        await SettleAsync(bench, parallelism, cancellationToken);
        // The nightly pass once, so every calendar holds a sync token, as in production after the first night.
        await bench.Services.GetRequiredService<CalendarNightlySync>().RunAsync(cancellationToken);
        await SettleAsync(bench, parallelism, cancellationToken);

        var connections = bench.Services.GetRequiredService<CalendarConnections>();
        var calendars = new List<string>();
        foreach (var lecturer in edited)
        {
            calendars.Add((await connections.FindAsync(lecturer, cancellationToken))!.CalendarId);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pump = bench.Pump;
        var pumping = Task.Run(() => pump.RunAsync(stop.Token), CancellationToken.None);
        var runs = new List<OutsideChangeRun>();
        try
        {
            foreach (var (dropRate, seed) in new[] { (0.0, 19), (0.10, 20) })
            {
                runs.Add(await MeasureAsync(bench, calendars, edits, dropRate, seed, cancellationToken));
            }
        }
        finally
        {
            await stop.CancelAsync();
            await pumping;
        }

        // Quiet lecturers at night: what the nightly pass asks of Google for each of them, push or no push.
        google.Faults.DisableNotificationFaults();
        var quietAccounts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var lecturer in quiet)
        {
            var calendar = (await connections.FindAsync(lecturer, cancellationToken))!.CalendarId;
            quietAccounts.Add(google.Calendars.Single(c => c.Id == calendar).Account);
        }

        var before = google.Requests.Count;
        await bench.Services.GetRequiredService<CalendarNightlySync>().RunAsync(cancellationToken);
        var nightly = google.Requests.Skip(before).Where(r => r.IsCalendarApi && r.Account is not null && quietAccounts.Contains(r.Account)).GroupBy(r => r.Account).Select(g => g.Count()).ToList();
        var debounce = bench.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<GoogleCalendarOptions>>().Value.NotificationDebounce;
        return new OutsideChangesFigures(edits, editedLecturers, quietLecturers, BookingsPerLecturer, debounce.TotalSeconds, Spacing.TotalSeconds, runs,
            nightly.DefaultIfEmpty(0).Max(), nightly.DefaultIfEmpty(0).Min());
    }

    /// <summary>Hand edits one every <see cref="Spacing"/>, each timed until Google holds the booking's event again.</summary>
    private static async Task<OutsideChangeRun> MeasureAsync(BenchSandbox bench, List<string> calendars, int edits, double dropRate, int seed, CancellationToken cancellationToken)
    {
        var google = bench.Sandbox.Google;
        if (dropRate > 0)
        {
            google.Faults.EnableNotificationFaults(seed, dropRate);
        }
        else
        {
            google.Faults.DisableNotificationFaults();
        }

        var random = new Random(seed);
        var candidates = calendars.SelectMany(c => google.EventsOf(c).Where(e => !e.Cancelled).Select(e => (Calendar: c, e.Id, Start: e.Body["start"]?["dateTime"]?.ToJsonString())))
            .OrderBy(_ => random.Next()).Take(edits).ToList();
        var notificationsBefore = google.Notifications.Count;
        var requestsBefore = google.Requests.Count;
        var clock = Stopwatch.StartNew();
        var pending = new List<(string Calendar, string Id, string? Start, TimeSpan At)>();
        var restored = new List<double>();
        var next = TimeSpan.Zero;
        var index = 0;
        while (index < candidates.Count || (pending.Count > 0 && clock.Elapsed - pending.Min(p => p.At) < Window))
        {
            if (index < candidates.Count && clock.Elapsed >= next)
            {
                var (calendar, id, start) = candidates[index];
                if (index % 2 == 0)
                {
                    google.DeleteByHand(calendar, id);
                }
                else
                {
                    google.EditByHand(calendar, id, body => body["start"]!["dateTime"] = "2030-01-01T00:00:00+00:00");
                }

                pending.Add((calendar, id, start, clock.Elapsed));
                (index, next) = (index + 1, next + Spacing);
            }

            foreach (var p in pending.ToList().Where(p => IsRestored(google, p.Calendar, p.Id, p.Start)))
            {
                restored.Add((clock.Elapsed - p.At).TotalSeconds);
                pending.Remove(p);
            }

            await Task.Delay(10, cancellationToken);
        }

        var notifications = google.Notifications.Skip(notificationsBefore).Where(n => n.State == "exists").ToList();
        var sent = google.Requests.Skip(requestsBefore).Where(r => r.IsCalendarApi || r.IsToken).ToList();
        var requests = sent.Count;
        var listings = sent.Count(r => r.Method == "GET" && r.Path.EndsWith("/events", StringComparison.Ordinal));
        var delivered = notifications.Count(n => n.Fault != NotificationFault.Drop);

        // What push left behind (its notification dropped and no later one on that calendar): the nightly pass puts it back.
        google.Faults.DisableNotificationFaults();
        var left = pending.Count;
        await bench.Services.GetRequiredService<CalendarNightlySync>().RunAsync(cancellationToken);
        var byNightly = pending.Count(p => IsRestored(google, p.Calendar, p.Id, p.Start));
        await google.WhenNotificationsSentAsync(TimeSpan.FromSeconds(60), cancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken); // the echoes of the nightly restores settle before the next run
        restored.Sort();
        return new OutsideChangeRun(dropRate, candidates.Count, notifications.Count, notifications.Count(n => n.Fault == NotificationFault.Drop),
            restored.Count, left, byNightly, Percentile(restored, 0.50), Percentile(restored, 0.95), restored.Count == 0 ? 0 : Math.Round(restored[^1], 3),
            requests, delivered == 0 ? 0 : Math.Round((double)requests / delivered, 2), listings, sent.Count(r => r.Method is "PUT" or "POST" && r.IsEventCall && !r.Path.EndsWith("/watch", StringComparison.Ordinal)), sent.Count(r => r.IsToken));
    }

    private static bool IsRestored(GoogleSimulator google, string calendar, string id, string? start) =>
        google.EventsOf(calendar).Any(e => e.Id == id && !e.Cancelled && e.Body["start"]?["dateTime"]?.ToJsonString() == start);

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : Math.Round(sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)], 3);

    /// <summary>Every queue idle and every notification answered, twice over (a sync's own writes notify again).</summary>
    private static async Task SettleAsync(BenchSandbox bench, int parallelism, CancellationToken cancellationToken)
    {
        var debounce = bench.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<GoogleCalendarOptions>>().Value.NotificationDebounce;
        for (var round = 0; round < 3; round++)
        {
            await bench.Pump.RunUntilIdleAsync(parallelism, cancellationToken);
            await bench.Sandbox.Google.WhenNotificationsSentAsync(TimeSpan.FromSeconds(120), cancellationToken);
            await Task.Delay(debounce + TimeSpan.FromMilliseconds(200), cancellationToken);
        }

        await bench.Pump.RunUntilIdleAsync(parallelism, cancellationToken);
    }
}
