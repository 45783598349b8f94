using System.Globalization;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Vimeo;
using Cafetalk.Integrations.Zoom;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Faults;

/// <summary>What the invariants found: the problems (empty when all hold) and the figures the report quotes.</summary>
internal sealed class InvariantReport
{
    public List<string> Problems { get; } = [];
    public int ZoomDuplicates { get; set; }
    public int CalendarDuplicates { get; set; }
    public int VimeoDuplicates { get; set; }
    public int PersonalRequests { get; set; }
    public int UncoveredRequests { get; set; }
    public long LedgerRows { get; set; }
    public int LedgerOutcomes { get; set; }
    public int InDoubtIntents { get; set; }
    public bool LedgerVerified { get; set; }

    public string Summary =>
        $"duplicates zoom={ZoomDuplicates} calendar={CalendarDuplicates} vimeo={VimeoDuplicates}; personal-data requests={PersonalRequests}, " +
        $"without a Succeeded/Failed row={UncoveredRequests}; ledger rows={LedgerRows} (outcomes {LedgerOutcomes}, in doubt {InDoubtIntents}), verified={LedgerVerified}";
}

/// <summary>
/// The end state every fault must leave: each booking converged at every provider (Zoom meeting with the right start
/// and duration, or none when cancelled; the same for the lecturer's Google event when connected; the recording on
/// Vimeo only with both consents, never left in Zoom's cloud), no duplicate meeting, event or video, every request
/// that carried personal data covered by a Succeeded or Failed ledger row, and the ledger verifying.
/// </summary>
internal static class FaultInvariants
{
    /// <summary>Checks <paramref name="bookings"/>; duplicates are counted over everything the simulators hold, wire requests since <paramref name="since"/>.</summary>
    public static async Task<InvariantReport> CheckAsync(FaultHarness harness, IReadOnlyCollection<ExpectedBooking> bookings, DateTimeOffset? since = null)
    {
        var report = new InvariantReport();
        var services = harness.Services;
        var sandbox = harness.Sandbox;
        var zoomRefs = services.GetRequiredService<ZoomBookingReference>();
        var eventIds = services.GetRequiredService<CalendarEventIds>();
        var vimeoRefs = services.GetRequiredService<RecordingReferences>();
        var connections = services.GetRequiredService<CalendarConnections>();

        // Zoom: one meeting per confirmed booking, at the desired time, none for a cancelled one.
        var meetings = sandbox.Zoom.Meetings;
        report.ZoomDuplicates = meetings.GroupBy(m => m.Body["agenda"]?.GetValue<string>() ?? string.Empty).Sum(g => g.Count() - 1);
        foreach (var booking in bookings)
        {
            var mine = meetings.Where(m => m.Body["agenda"]?.GetValue<string>() == zoomRefs.For(booking.BookingId)).ToList();
            if (!booking.Confirmed)
            {
                if (mine.Count > 0)
                {
                    report.Problems.Add($"{booking.BookingId}: cancelled, but Zoom holds {mine.Count} meeting(s)");
                }

                continue;
            }

            if (mine.Count != 1)
            {
                report.Problems.Add($"{booking.BookingId}: confirmed, Zoom holds {mine.Count} meeting(s)");
                continue;
            }

            var start = DateTimeOffset.Parse(mine[0].Body["start_time"]!.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            var duration = mine[0].Body["duration"]!.GetValue<int>();
            if (start != booking.StartsAtUtc || duration != booking.DurationMinutes)
            {
                report.Problems.Add($"{booking.BookingId}: Zoom meeting at {start:O} for {duration} min, booked {booking.StartsAtUtc:O} for {booking.DurationMinutes} min");
            }
        }

        // Google: the connected lecturer's event matches; duplicates are live events at the same start, or events of no booking.
        var calendars = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var lecturer in bookings.Select(b => b.LecturerId).Distinct(StringComparer.Ordinal))
        {
            if (await connections.FindAsync(lecturer) is { Status: ConnectionStatus.Connected } connection)
            {
                calendars[lecturer] = connection.CalendarId;
            }
        }

        foreach (var calendar in sandbox.Google.Calendars.Where(c => calendars.ContainsValue(c.Id)))
        {
            var live = sandbox.Google.EventsOf(calendar.Id).Where(e => !e.Cancelled).ToList();
            report.CalendarDuplicates += live.GroupBy(e => e.Body["start"]?["dateTime"]?.GetValue<string>() ?? e.Id).Sum(g => g.Count() - 1);
        }

        report.CalendarDuplicates += sandbox.Google.Calendars.GroupBy(c => c.Account).Sum(g => g.Count() - 1);
        foreach (var booking in bookings.Where(b => calendars.ContainsKey(b.LecturerId)))
        {
            var found = sandbox.Google.EventsOf(calendars[booking.LecturerId]).FirstOrDefault(e => e.Id == eventIds.For(booking.BookingId));
            if (!booking.Confirmed)
            {
                if (found is { Cancelled: false })
                {
                    report.Problems.Add($"{booking.BookingId}: cancelled, but its Google event is live");
                }

                continue;
            }

            if (found is not { Cancelled: false })
            {
                report.Problems.Add($"{booking.BookingId}: confirmed, no live Google event");
                continue;
            }

            var start = DateTimeOffset.Parse(found.Body["start"]!["dateTime"]!.GetValue<string>(), CultureInfo.InvariantCulture);
            var end = DateTimeOffset.Parse(found.Body["end"]!["dateTime"]!.GetValue<string>(), CultureInfo.InvariantCulture);
            if (start != booking.StartsAtUtc || end - start != TimeSpan.FromMinutes(booking.DurationMinutes))
            {
                report.Problems.Add($"{booking.BookingId}: Google event {start:O}–{end:O}, booked {booking.StartsAtUtc:O} for {booking.DurationMinutes} min");
            }

            var join = found.Body["description"]?.GetValue<string>();
            var meeting = meetings.FirstOrDefault(m => m.Body["agenda"]?.GetValue<string>() == zoomRefs.For(booking.BookingId));
            // Zoom's join link is j/{id} with the meeting's password as a query.
            var link = $"{sandbox.Zoom.BaseAddress}j/{meeting?.Id}";
            if (meeting is not null && !(join == link || (join?.StartsWith(link + "?", StringComparison.Ordinal) ?? false)))
            {
                report.Problems.Add($"{booking.BookingId}: Google event does not show the Zoom meeting's join link");
            }
        }

        // Vimeo: one video per recorded lesson both parties agreed to record, none otherwise; Zoom's cloud copy gone.
        var videos = sandbox.Vimeo.Videos;
        report.VimeoDuplicates = videos.GroupBy(v => v.Description ?? v.Id).Sum(g => g.Count() - 1)
            + sandbox.Vimeo.Folders.GroupBy(f => f.Name).Sum(g => g.Count() - 1);
        var rows = await BookingRowsAsync(harness, bookings);
        foreach (var booking in bookings.Where(b => b.Recorded))
        {
            var count = videos.Count(v => v.Description == vimeoRefs.ForBooking(booking.BookingId));
            var wanted = booking.BothConsent && booking.Confirmed ? 1 : 0;
            if (count != wanted)
            {
                report.Problems.Add($"{booking.BookingId}: {count} Vimeo video(s), expected {wanted}");
            }

            var meetingId = rows[booking.BookingId].GetString("ZoomMeetingId");
            if (sandbox.Zoom.Recordings.Any(r => r.MeetingId.ToString(CultureInfo.InvariantCulture) == meetingId))
            {
                report.Problems.Add($"{booking.BookingId}: the recording is still in Zoom's cloud");
            }
        }

        foreach (var (count, what) in new[] { (report.ZoomDuplicates, "duplicate Zoom meetings"), (report.CalendarDuplicates, "duplicate calendar events"), (report.VimeoDuplicates, "duplicate Vimeo videos or folders") })
        {
            if (count > 0)
            {
                report.Problems.Add($"{count} {what}");
            }
        }

        await CheckLedgerAsync(harness, bookings, rows, since, report);
        return report;
    }

    private static async Task<Dictionary<string, TableEntity>> BookingRowsAsync(FaultHarness harness, IReadOnlyCollection<ExpectedBooking> bookings)
    {
        var table = harness.Storage.Table(TableNames.Bookings);
        var rows = new Dictionary<string, TableEntity>(StringComparer.Ordinal);
        foreach (var booking in bookings)
        {
            rows[booking.BookingId] = (await table.GetEntityAsync<TableEntity>(booking.LecturerId, booking.BookingId)).Value;
        }

        return rows;
    }

    /// <summary>
    /// Every request the simulators received from the pipeline that carried personal data (by the policy: a path value,
    /// query parameter or body field with an owner) needs, for each role whose data it carried, an intent written before
    /// it and a Succeeded or Failed outcome written after it, of the same purpose and operation (and booking, where the
    /// request names one). Then the ledger must verify.
    /// </summary>
    private static async Task CheckLedgerAsync(FaultHarness harness, IReadOnlyCollection<ExpectedBooking> bookings, Dictionary<string, TableEntity> rows, DateTimeOffset? since, InvariantReport report)
    {
        var services = harness.Services;
        var policy = services.GetRequiredService<DisclosurePolicy>();
        var closed = await ClosedDisclosuresAsync(harness, report);
        var bookingOf = new BookingResolver(harness, bookings, rows);
        // Ledger times are truncated to the millisecond: an intent is never later than the request, an outcome at most 1 ms earlier.
        var tolerance = TimeSpan.FromMilliseconds(1);
        foreach (var request in PipelineRequests(harness).Where(r => since is null || r.At >= since))
        {
            var recipient = Recipients[request.Provider];
            var carried = WireAudit.PersonalData(policy, recipient, request.Method, request.Path, request.Query, request.Body).Where(p => p.PersonalFields.Count > 0).ToList();
            if (carried.Count == 0)
            {
                continue;
            }

            report.PersonalRequests++;
            var bookingId = bookingOf.Of(request);
            var covered = carried.Any(p =>
            {
                var operation = OperationOf(p.Purpose.Id, request);
                var roles = p.PersonalFields.SelectMany(f => DisclosurePurpose.RolesOf(p.Purpose.FindField(f)!.Owner)).Distinct().ToList();
                return roles.All(role => closed.Any(d => d.PurposeId == p.Purpose.Id && d.Operation == operation && d.Role == role
                    && (bookingId is null || d.BookingId == bookingId)
                    && d.IntendedAt <= request.At && d.ClosedAt >= request.At - tolerance));
            });
            if (!covered)
            {
                report.UncoveredRequests++;
                var purposes = string.Join("/", carried.Select(p => $"{p.Purpose.Id}:{OperationOf(p.Purpose.Id, request)}"));
                report.Problems.Add($"no Succeeded/Failed ledger row for {request.Provider} {request.Method} {request.Path} at {request.At:HH:mm:ss.fff} (status {request.Status}, {purposes}, booking {bookingId ?? "-"})");
            }
        }

        var verification = await services.GetRequiredService<LedgerVerifier>().VerifyAsync();
        report.LedgerVerified = verification.IsIntact;
        report.LedgerRows = verification.Rows;
        if (!verification.IsIntact)
        {
            report.Problems.Add("ledger verify: " + string.Join("; ", verification.Findings.Take(3)));
        }

        var inDoubt = 0;
        await foreach (var _ in services.GetRequiredService<DisclosureLedger>().FindInDoubtAsync(TimeSpan.Zero))
        {
            inDoubt++;
        }

        report.InDoubtIntents = inDoubt;
        if (inDoubt > 0)
        {
            report.Problems.Add($"{inDoubt} ledger intent(s) still without an outcome after the nightly jobs");
        }
    }

    private static readonly Dictionary<string, Recipient> Recipients = new(StringComparer.Ordinal)
    {
        ["zoom"] = DisclosurePolicy.Zoom,
        ["google"] = DisclosurePolicy.Google,
        ["vimeo"] = DisclosurePolicy.Vimeo,
        ["mail"] = DisclosurePolicy.MailService,
    };

    /// <summary>The ledger operation name the pipeline writes for a request of this purpose.</summary>
    internal static string OperationOf(string purposeId, WireEntry request) => (purposeId, request.Method) switch
    {
        (DisclosurePolicy.PurposeIds.GoogleAuthorization, _) when request.Path.StartsWith("/revoke", StringComparison.Ordinal) => "revoke",
        (DisclosurePolicy.PurposeIds.GoogleAuthorization, _) => QueryHelpers.ParseQuery(request.Body).TryGetValue("grant_type", out var grant) && grant == "authorization_code" ? "authorize" : "refresh",
        (DisclosurePolicy.PurposeIds.GoogleLessonCalendar, "POST") => "insert",
        (DisclosurePolicy.PurposeIds.NewsletterSuppression, "POST") => "suppress",
        (DisclosurePolicy.PurposeIds.NewsletterSuppression, "DELETE") => "unsuppress",
        (_, "POST") => "create",
        (_, "GET") => "look-up",
        (_, "PATCH" or "PUT") => "update",
        (_, "DELETE") => "delete",
        _ => "?",
    };

    /// <summary>One disclosure the ledger closed: its intent and its outcome.</summary>
    internal sealed record ClosedDisclosure(string PurposeId, string Operation, SubjectRole Role, string? BookingId, DateTimeOffset IntendedAt, DateTimeOffset ClosedAt, DisclosureOutcome Outcome);

    private static async Task<List<ClosedDisclosure>> ClosedDisclosuresAsync(FaultHarness harness, InvariantReport report)
    {
        var intents = new Dictionary<(string, long), LedgerEntry>();
        var outcomes = new List<LedgerEntry>();
        await foreach (var row in harness.Storage.Table(TableNames.DisclosureLedger).QueryAsync<TableEntity>())
        {
            if (LedgerRow.IsHead(row))
            {
                continue;
            }

            var entry = LedgerRow.FromEntity(row);
            if (entry.Outcome == DisclosureOutcome.Intended)
            {
                intents[(entry.SubjectRef, entry.Seq)] = entry;
            }
            else
            {
                outcomes.Add(entry);
            }
        }

        report.LedgerOutcomes = outcomes.Count;
        return outcomes
            .Where(o => o.IntentSeq is { } seq && intents.ContainsKey((o.SubjectRef, seq)))
            .Select(o =>
            {
                var intent = intents[(o.SubjectRef, o.IntentSeq!.Value)];
                return new ClosedDisclosure(intent.PurposeId, intent.Operation, intent.Role, intent.BookingId, intent.ProvidedAtUtc, o.ProvidedAtUtc, o.Outcome);
            })
            .ToList();
    }

    /// <summary>What the pipeline sent: not the lecturer's browser at Google's consent page, not Vimeo pulling Zoom's file.</summary>
    internal static IEnumerable<WireEntry> PipelineRequests(FaultHarness harness)
    {
        var sandbox = harness.Sandbox;
        return sandbox.Zoom.Requests.Where(r => r.IsApi || r.IsToken).Select(r => new WireEntry("zoom", r.ReceivedAtUtc, r.Method, r.Path, r.Query, r.Body, r.Status))
            .Concat(sandbox.Google.Requests.Where(r => !r.Path.StartsWith("/o/oauth2/", StringComparison.Ordinal)).Select(r => new WireEntry("google", r.ReceivedAtUtc, r.Method, r.Path, r.Query, r.Body, r.Status)))
            .Concat(sandbox.Vimeo.Requests.Select(r => new WireEntry("vimeo", r.ReceivedAtUtc, r.Method, r.Path, r.Query, r.Body, r.Status)))
            .Concat(sandbox.Mail.Requests.Select(r => new WireEntry("mail", r.ReceivedAtUtc, r.Method, r.Path, r.Query, r.Body, r.Status)))
            .OrderBy(r => r.At);
    }

    /// <summary>The booking a request names, where it names one: Zoom's agenda or meeting id, Google's event id, Vimeo's description or video id.</summary>
    private sealed class BookingResolver
    {
        private readonly Dictionary<string, string> _byReference = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _byMeetingId = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _byVideoId = new(StringComparer.Ordinal);

        public BookingResolver(FaultHarness harness, IReadOnlyCollection<ExpectedBooking> bookings, Dictionary<string, TableEntity> rows)
        {
            var services = harness.Services;
            foreach (var booking in bookings)
            {
                _byReference[services.GetRequiredService<ZoomBookingReference>().For(booking.BookingId)] = booking.BookingId;
                _byReference[services.GetRequiredService<CalendarEventIds>().For(booking.BookingId)] = booking.BookingId;
                _byReference[services.GetRequiredService<RecordingReferences>().ForBooking(booking.BookingId)] = booking.BookingId;
                if (rows[booking.BookingId].GetString("ZoomMeetingId") is { Length: > 0 } meetingId)
                {
                    _byMeetingId[meetingId] = booking.BookingId;
                }
            }

            foreach (var meeting in harness.Sandbox.Zoom.Meetings)
            {
                if (meeting.Body["agenda"]?.GetValue<string>() is { } agenda && _byReference.TryGetValue(agenda, out var booking))
                {
                    _byMeetingId[meeting.Id.ToString(CultureInfo.InvariantCulture)] = booking;
                }
            }

            foreach (var video in harness.Sandbox.Vimeo.Videos)
            {
                if (video.Description is { } description && _byReference.TryGetValue(description, out var booking))
                {
                    _byVideoId[video.Id] = booking;
                }
            }
        }

        public string? Of(WireEntry request)
        {
            var segments = request.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var body = Parse(request.Body);
            return (request.Provider, segments) switch
            {
                ("zoom", ["v2", "users", _, "meetings"]) when request.Method == "POST" => Lookup(_byReference, body?["agenda"]?.GetValue<string>()),
                ("zoom", ["v2", "meetings", var id]) => Lookup(_byMeetingId, id) ?? Lookup(_byReference, body?["agenda"]?.GetValue<string>()),
                ("zoom", ["v2", "meetings", var id, "recordings"]) => Lookup(_byMeetingId, Uri.UnescapeDataString(id).Replace("uuid-", string.Empty, StringComparison.Ordinal).TrimEnd('=')),
                ("google", ["calendar", "v3", "calendars", _, "events"]) when request.Method == "POST" => Lookup(_byReference, body?["id"]?.GetValue<string>()),
                ("google", ["calendar", "v3", "calendars", _, "events", var eventId]) => Lookup(_byReference, eventId),
                ("vimeo", ["me", "videos"]) when request.Method == "POST" => Lookup(_byReference, body?["description"]?.GetValue<string>()),
                ("vimeo", ["me", "videos"]) => Lookup(_byReference, QueryHelpers.ParseQuery(request.Query).TryGetValue("query", out var q) ? q.ToString() : null),
                ("vimeo", ["videos", var videoId, ..]) => Lookup(_byVideoId, videoId),
                ("vimeo", ["me", "projects", _, "videos", var videoId]) => Lookup(_byVideoId, videoId),
                _ => null,
            };
        }

        private static string? Lookup(Dictionary<string, string> map, string? key) => key is not null && map.TryGetValue(key, out var booking) ? booking : null;

        private static JsonObject? Parse(string body)
        {
            try
            {
                return body.TrimStart().StartsWith('{') ? JsonNode.Parse(body) as JsonObject : null;
            }
            catch (System.Text.Json.JsonException)
            {
                return null;
            }
        }
    }
}

/// <summary>One request a simulator received, whichever simulator it was.</summary>
internal sealed record WireEntry(string Provider, DateTimeOffset At, string Method, string Path, string Query, string Body, int Status);
