using System.Globalization;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Http;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Zoom;

/// <summary>
/// <c>POST /api/zoom/start-link/{lecturerId}/{bookingId}</c> for the Cafetalk site, shortly before a lesson whose meeting
/// sits on a pool host: a fresh <c>start_url</c> from Zoom (they expire), handed to the caller and never stored or
/// logged. Needs the site's key (<c>Zoom:StartLinkSiteKey</c> in <c>X-Cafetalk-Site-Key</c>) besides the function key.
/// The Zoom call names only the meeting id, which the disclosure policy holds to be no one's data: no ledger row.
/// </summary>
public sealed class ZoomStartLinkFlow(
    BookingRows rows,
    ZoomClient zoom,
    ZoomDisclosures disclosures,
    IOptions<ZoomOptions> options,
    TimeProvider time,
    ILogger<ZoomStartLinkFlow> logger)
{
    public const string Route = "zoom/start-link/{lecturerId}/{bookingId}";

    /// <summary>The header the site's key travels in (never the query: URLs reach logs and telemetry).</summary>
    public const string SiteKeyHeader = "X-Cafetalk-Site-Key";

    public const int MinimumKeyLength = 32;

    /// <summary>The route takes its input from the path; a body is read only to refuse a large one.</summary>
    public const int MaxBodyBytes = 1024;

    public const string ProblemTypeBase = "https://cafetalk.com/problems/zoom-start-link/";

    /// <summary>The start link (200) or a refusal; <paramref name="presentedKey"/> is every value of the key header.</summary>
    public async Task<FlowOutcome> RequestAsync(BodyRead body, IReadOnlyList<string?> presentedKey, string lecturerId, string bookingId, CancellationToken cancellationToken = default)
    {
        if (body.Refusal(MaxBodyBytes) is { } refused)
        {
            return Problem(refused.Status, refused.Type, refused.Detail);
        }

        if (!PresentedKey.Matches(presentedKey, options.Value.StartLinkSiteKey, MinimumKeyLength))
        {
            return Problem(401, "site-key", $"This route needs the site's key in the {SiteKeyHeader} header.");
        }

        if (!TableKeys.IsValidId(lecturerId) || !TableKeys.IsValidId(bookingId))
        {
            return Problem(400, "ids", "The lecturer and booking ids must be 1-64 characters of A-Z a-z 0-9 _ . -");
        }

        var booking = await rows.ReadAsync(lecturerId, bookingId, cancellationToken);
        var facts = booking is null ? null : ZoomMeetingColumns.Read(booking.Row);
        if (booking is null || facts is null || booking.Desired.Status != BookingStatus.Confirmed || !facts.HasLiveMeeting)
        {
            return Problem(404, "no-meeting", "The booking has no confirmed lesson with a meeting.");
        }

        if (!facts.OnPoolHost)
        {
            return Problem(409, "own-host", "The lesson's meeting is on the lecturer's own Zoom user: they start it from Zoom.");
        }

        var now = time.GetUtcNow();
        var opens = booking.Desired.StartsAtUtc - options.Value.StartLinkLeadTime;
        if (now < opens)
        {
            return Problem(409, "too-early", $"The start link is available from {opens.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}.");
        }

        if (now > booking.Desired.StartsAtUtc.AddMinutes(booking.Desired.DurationMinutes))
        {
            return Problem(409, "ended", "The lesson is over.");
        }

        var meetingId = facts.MeetingId!;
        var disclosure = new ZoomDisclosure(ZoomOperation.FetchStartLink, bookingId, lecturerId, booking.Desired.StudentId, facts.HostId!, meetingId, ["path:meetingId"], Guid.NewGuid().ToString("N"));
        var startUrl = await disclosures.DiscloseAsync(disclosure, context => zoom.GetStartUrlAsync(long.Parse(meetingId, CultureInfo.InvariantCulture), context, cancellationToken), _ => meetingId, cancellationToken);
        if (startUrl is null)
        {
            return Problem(404, "no-meeting", "Zoom no longer has the lesson's meeting; it will be made again.");
        }

        logger.LogInformation("Start link of meeting {MeetingId} handed to the site for booking {BookingId}", meetingId, bookingId);
        return new FlowOutcome.Answer(200, new { startUrl, meetingId });
    }

    private static FlowOutcome.Refused Problem(int status, string type, string detail) =>
        new(status, new FlowProblem(ProblemTypeBase + type, "Start link refused", detail));
}
