using System.Diagnostics.Metrics;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.Telemetry;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Operations;

/// <summary>A lesson starting soon whose provider could not be made to match it, even after one more try.</summary>
public sealed record AtRiskLesson(string LecturerId, string BookingId, long BookingVersion, string Provider, string Problem, int MinutesBeforeLesson);

/// <summary>What one starts-soon check did: lessons looked at, lessons its try put right (at Zoom, Google or both), and lessons still at risk.</summary>
public sealed record StartsSoonReport(int Checked, int Rescued, IReadOnlyList<AtRiskLesson> AtRisk);

/// <summary>
/// The frequent backstop before a lesson: every booking starting within <see cref="StartsSoonOptions.Window"/> is
/// converged once more at Zoom and Google (a booking that matches costs a row read and no provider request), so a
/// meeting whose create was poisoned or deferred gets one more chance while there is still time. What is still wrong
/// after that try raises <c>cafetalk.lesson.at_risk</c> (alert <c>lesson-at-risk</c>) and tells the site
/// (<c>com.cafetalk.booking.provider-problem</c>). Ids only in logs and notifications.
/// </summary>
public sealed class StartsSoonCheck(
    BookingRows rows,
    MeetingConverger meetings,
    CalendarEventConverger calendars,
    SiteNotifier notifier,
    IOptions<StartsSoonOptions> options,
    IMeterFactory meterFactory,
    TimeProvider time,
    ILogger<StartsSoonCheck> logger)
{
    public const string AtRiskMetric = "cafetalk.lesson.at_risk";

    private readonly Counter<long> _atRisk = meterFactory.Create(PipelineMeter.Name)
        .CreateCounter<long>(AtRiskMetric, "{lesson}", "Lessons starting soon whose provider still does not match after one more try");

    public async Task<StartsSoonReport> RunAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var correlationId = $"starts-soon-{now:yyyyMMddHHmm}";
        // The column name is not a value: only the times go through CreateQueryFilter, which quotes what it is given.
        var filter = $"{BookingRow.StartsAtUtc} ge {TableClient.CreateQueryFilter($"{now}")} and {BookingRow.StartsAtUtc} le {TableClient.CreateQueryFilter($"{now + options.Value.Window}")}";
        int checkedRows = 0, rescued = 0;
        var atRisk = new List<AtRiskLesson>();
        await foreach (var row in rows.QueryAsync(filter, cancellationToken: cancellationToken))
        {
            var desired = BookingRow.ToDesiredState(row);
            if (desired.Status == BookingStatus.Cancelled || row.GetDateTimeOffset(BookingRow.ErasedAtUtc) is not null)
            {
                continue; // nothing must exist for it
            }

            checkedRows++;
            var minutes = (int)Math.Floor((desired.StartsAtUtc - now).TotalMinutes);
            var zoom = await TryZoomAsync(row, desired, correlationId, cancellationToken);
            var putRight = zoom.Rescued;
            if (zoom.Problem is { } meetingProblem)
            {
                atRisk.Add(new AtRiskLesson(desired.LecturerId, desired.BookingId, desired.Version, "zoom", meetingProblem, minutes));
            }
            else
            {
                // The event holds the meeting's link: it is looked at only once the meeting is there.
                var google = await TryCalendarAsync(row, desired, correlationId, cancellationToken);
                putRight |= google.Rescued;
                if (google.Problem is { } eventProblem)
                {
                    atRisk.Add(new AtRiskLesson(desired.LecturerId, desired.BookingId, desired.Version, "google", eventProblem, minutes));
                }
            }

            rescued += putRight ? 1 : 0;
        }

        foreach (var lesson in atRisk)
        {
            _atRisk.Add(1, new KeyValuePair<string, object?>("provider", lesson.Provider), new KeyValuePair<string, object?>("problem", lesson.Problem));
            logger.LogError("Lesson {BookingId} starts in {Minutes} min and its {Provider} side is {Problem} after one more try; the site was told",
                lesson.BookingId, lesson.MinutesBeforeLesson, lesson.Provider, lesson.Problem);
            await notifier.PublishAsync(SiteNotificationTypes.ProviderProblem, new Dictionary<string, object?>
            {
                ["bookingId"] = lesson.BookingId,
                ["lecturerId"] = lesson.LecturerId,
                [SiteNotificationTypes.BookingVersionField] = lesson.BookingVersion,
                ["provider"] = lesson.Provider,
                ["problem"] = lesson.Problem,
                ["minutesBeforeLesson"] = lesson.MinutesBeforeLesson,
                [SiteNotificationTypes.CorrelationField] = correlationId,
            }, cancellationToken);
        }

        logger.LogInformation("Starts-soon check: {Checked} lessons within {Window}, {Rescued} put right, {AtRisk} still at risk",
            checkedRows, options.Value.Window, rescued, atRisk.Count);
        return new StartsSoonReport(checkedRows, rescued, atRisk);
    }

    private readonly record struct TryResult(bool Rescued, string? Problem);

    private async Task<TryResult> TryZoomAsync(TableEntity row, DesiredState desired, string correlationId, CancellationToken cancellationToken)
    {
        var facts = ZoomMeetingColumns.Read(row);
        var problem = facts.HasLiveMeeting ? "not-updated" : "not-created";
        try
        {
            var result = await meetings.ConvergeAsync(desired.LecturerId, desired.BookingId, correlationId, cancellationToken);
            return result.Outcome switch
            {
                MeetingConvergence.Created or MeetingConvergence.Updated => new TryResult(true, null),
                MeetingConvergence.Deferred => new TryResult(false, problem),
                _ => new TryResult(false, null),
            };
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Starts-soon try of booking {BookingId} at Zoom failed ({Error})", desired.BookingId, ex.GetType().Name);
            return new TryResult(false, problem);
        }
    }

    private async Task<TryResult> TryCalendarAsync(TableEntity row, DesiredState desired, string correlationId, CancellationToken cancellationToken)
    {
        var problem = CalendarEventColumns.Read(row).EventId is null ? "not-created" : "not-updated";
        try
        {
            var result = await calendars.ConvergeAsync(desired.LecturerId, desired.BookingId, correlationId, cancellationToken);
            return result.Outcome switch
            {
                EventConvergence.Created or EventConvergence.Updated => new TryResult(true, null),
                EventConvergence.AwaitingJoinLink => new TryResult(false, "no-join-link"),
                _ => new TryResult(false, null), // up to date, not connected, revoked (the site was told), or another converger on it
            };
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Starts-soon try of booking {BookingId} at Google failed ({Error})", desired.BookingId, ex.GetType().Name);
            return new TryResult(false, problem);
        }
    }
}
