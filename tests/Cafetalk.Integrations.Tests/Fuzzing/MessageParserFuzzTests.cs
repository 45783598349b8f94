using System.Text.Json;
using System.Text.RegularExpressions;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Fuzzing;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Vimeo;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Cafetalk.Integrations.Tests.Fuzzing;

/// <summary>
/// The message-parsing step of every queue-triggered function, fuzzed with <see cref="FuzzSettings.Count"/> generated
/// messages per queue (mutations of its valid messages, other queues' messages, junk): it never throws, a refusal
/// carries one known reason and a detail that echoes nothing from the message, and what it accepts is a valid record
/// that survives a round trip.
/// </summary>
public sealed partial class MessageParserFuzzTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Now = new(2027, 2, 1, 9, 0, 0, TimeSpan.Zero);

    private static readonly HashSet<string> KnownReasons =
    [
        RejectionReasons.NotJson, RejectionReasons.NotCloudEvent, RejectionReasons.UnknownType, RejectionReasons.MissingField,
        RejectionReasons.InvalidField, RejectionReasons.StartsAtNotUtc, RejectionReasons.StartsAtTooFarOut,
        RejectionReasons.DurationOutOfRange, RejectionReasons.UnknownTimeZone, RejectionReasons.TooLarge,
    ];

    private static BookingEventParser CreateParser() => new(new FakeTimeProvider(Now));

    [Theory]
    [InlineData(QueueNames.BookingEvents)]
    [InlineData(QueueNames.ErasureRequests)]
    [InlineData(QueueNames.NewsletterEvents)]
    public void BookingEventParser_FuzzedMessages_NeverThrow_RefuseWithOneKnownReason_AndEchoNoValue(string queue)
    {
        var parser = CreateParser();
        var inputs = FuzzSettings.Inputs($"parser:{queue}", QueueMessages.BadInputFor(queue, Now));
        var problems = new List<string>();
        var reasons = new Dictionary<string, int>(StringComparer.Ordinal);
        int bookings = 0, members = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            ParseResult result;
            try
            {
                result = parser.Parse(input);
            }
            catch (Exception ex)
            {
                problems.Add($"#{i} threw {ex.GetType().Name}: {FuzzSettings.Show(input)}");
                continue;
            }

            var outcomes = (result.Booking is null ? 0 : 1) + (result.Member is null ? 0 : 1) + (result.Rejection is null ? 0 : 1);
            if (outcomes != 1)
            {
                problems.Add($"#{i} has {outcomes} outcomes: {FuzzSettings.Show(input)}");
            }
            else if (result.Rejection is { } rejection)
            {
                reasons[rejection.Reason] = reasons.GetValueOrDefault(rejection.Reason) + 1;
                if (ProblemWithRejection(rejection) is { } problem)
                {
                    problems.Add($"#{i} {problem}: {FuzzSettings.Show(input)}");
                }
            }
            else if (result.Booking is { } booking)
            {
                bookings++;
                if (ProblemWithBooking(parser, booking) is { } problem)
                {
                    problems.Add($"#{i} accepted booking {problem}: {FuzzSettings.Show(input)}");
                }
            }
            else if (ProblemWithMember(parser, result.Member!) is { } problem)
            {
                problems.Add($"#{i} accepted member event {problem}: {FuzzSettings.Show(input)}");
            }
            else
            {
                members++;
            }
        }

        output.WriteLine($"{queue}: {inputs.Count} inputs ({FuzzSettings.Replay}); accepted {bookings} booking and {members} member events; " +
            "rejected " + string.Join(", ", reasons.OrderByDescending(r => r.Value).Select(r => $"{r.Key} {r.Value}")));
        FuzzSettings.AssertNone($"BookingEventParser ({queue})", problems, inputs.Count);
        // The booking queue's generator must reach every refusal; the member queues' events have fewer rules.
        var expected = queue == QueueNames.BookingEvents ? KnownReasons.Count : 6;
        Assert.True(reasons.Count >= expected, $"the generator reached only {reasons.Count} of {KnownReasons.Count} reasons ({FuzzSettings.Replay})");
    }

    [Theory]
    [InlineData(QueueNames.ZoomConverge)]
    [InlineData(QueueNames.CalendarConverge)]
    [InlineData(QueueNames.RecordingConverge)]
    public void ConvergeRequest_FuzzedMessages_NeverThrow_AndAcceptOnlyTableSafeIds(string queue)
    {
        var inputs = FuzzSettings.Inputs($"parser:{queue}", QueueMessages.BadInputFor(queue, Now));
        var problems = new List<string>();
        var accepted = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            try
            {
                if (ConvergeRequest.TryParse(inputs[i]) is not { } request)
                {
                    continue;
                }

                accepted++;
                if (!TableKeys.IsValidId(request.LecturerId) || !TableKeys.IsValidId(request.BookingId))
                {
                    problems.Add($"#{i} accepted ids that are not table-safe: {FuzzSettings.Show(inputs[i])}");
                }
                else if (ConvergeRequest.TryParse(request.ToJson()) != request)
                {
                    problems.Add($"#{i} does not round-trip: {FuzzSettings.Show(inputs[i])}");
                }
            }
            catch (Exception ex)
            {
                problems.Add($"#{i} threw {ex.GetType().Name}: {FuzzSettings.Show(inputs[i])}");
            }
        }

        output.WriteLine($"{queue}: {inputs.Count} inputs ({FuzzSettings.Replay}); {accepted} well-formed converge requests, {inputs.Count - accepted} refused");
        FuzzSettings.AssertNone($"ConvergeRequest.TryParse ({queue})", problems, inputs.Count);
    }

    [Fact]
    public void ZoomEventMessage_FuzzedMessages_NeverThrow_AndAcceptedOnesRoundTrip()
    {
        var inputs = FuzzSettings.Inputs($"parser:{QueueNames.ZoomEvents}", QueueMessages.BadInputFor(QueueNames.ZoomEvents, Now));
        var problems = new List<string>();
        var accepted = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            try
            {
                if (ZoomEventMessage.TryParse(inputs[i]) is not { } message)
                {
                    continue;
                }

                accepted++;
                var again = ZoomEventMessage.TryParse(JsonSerializer.Serialize(message));
                if (again is null || again with { RecordingFiles = null } != message with { RecordingFiles = null }
                    || !(again.RecordingFiles ?? []).SequenceEqual(message.RecordingFiles ?? []))
                {
                    problems.Add($"#{i} does not round-trip: {FuzzSettings.Show(inputs[i])}");
                }
                else if (string.IsNullOrEmpty(message.Event))
                {
                    problems.Add($"#{i} accepted without an event name: {FuzzSettings.Show(inputs[i])}");
                }
            }
            catch (Exception ex)
            {
                problems.Add($"#{i} threw {ex.GetType().Name}: {FuzzSettings.Show(inputs[i])}");
            }
        }

        output.WriteLine($"zoom-events: {inputs.Count} inputs ({FuzzSettings.Replay}); {accepted} parsed as Zoom events, {inputs.Count - accepted} refused");
        FuzzSettings.AssertNone("ZoomEventMessage.TryParse", problems, inputs.Count);
    }

    [Fact]
    public void MailSuppressionRequest_FuzzedMessages_NeverThrow_AndAcceptOnlyAPseudonymAndAList()
    {
        var inputs = FuzzSettings.Inputs($"parser:{QueueNames.MailSuppressions}", QueueMessages.BadInputFor(QueueNames.MailSuppressions, Now));
        var problems = new List<string>();
        var accepted = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            try
            {
                if (MailSuppressionRequest.TryParse(inputs[i]) is not { } request)
                {
                    continue;
                }

                accepted++;
                if (!SubjectRefPattern().IsMatch(request.SubjectRef) || !TableKeys.IsValidId(request.List))
                {
                    problems.Add($"#{i} accepted a subject or list that is not table-safe: {FuzzSettings.Show(inputs[i])}");
                }
                else if (MailSuppressionRequest.TryParse(request.ToJson()) != request)
                {
                    problems.Add($"#{i} does not round-trip: {FuzzSettings.Show(inputs[i])}");
                }
            }
            catch (Exception ex)
            {
                problems.Add($"#{i} threw {ex.GetType().Name}: {FuzzSettings.Show(inputs[i])}");
            }
        }

        output.WriteLine($"mail-suppressions: {inputs.Count} inputs ({FuzzSettings.Replay}); {accepted} well-formed, {inputs.Count - accepted} refused");
        FuzzSettings.AssertNone("MailSuppressionRequest.TryParse", problems, inputs.Count);
    }

    private static string? ProblemWithRejection(Rejection rejection)
    {
        if (!KnownReasons.Contains(rejection.Reason))
        {
            return $"unknown reason '{FuzzSettings.Show(rejection.Reason)}'";
        }

        if (Junk.HasMarker(rejection.Detail))
        {
            return "echoed a planted value in its detail";
        }

        // Details are fixed texts about fields: short and ASCII. Anything else came from the message.
        return rejection.Detail.Length is 0 or > 120 || rejection.Detail.Any(c => c is < ' ' or > '~')
            ? $"has a detail that is not a fixed text: '{FuzzSettings.Show(rejection.Detail)}'"
            : null;
    }

    private static string? ProblemWithBooking(BookingEventParser parser, BookingEvent booking)
    {
        if (!TableKeys.IsValidId(booking.BookingId) || !TableKeys.IsValidId(booking.LecturerId) || !TableKeys.IsValidId(booking.StudentId))
        {
            return "with an id that is not table-safe";
        }

        if (booking.Version < 1 || booking.DurationMinutes is < BookingEventParser.MinDurationMinutes or > BookingEventParser.MaxDurationMinutes
            || booking.StartsAtUtc.Offset != TimeSpan.Zero || booking.StartsAtUtc > Now + BookingEventParser.MaxLeadTime
            || !TimeZoneInfo.TryFindSystemTimeZoneById(booking.LecturerTimeZone, out var zone) || !zone.HasIanaId || !EventTypes.Booking.Contains(booking.Type))
        {
            return "outside the contract";
        }

        // Encoded again as the booking system would send it, it must read back as the same record.
        var again = parser.Parse(SampleEvents.Booking(booking.Type, booking.BookingId, booking.Version, booking.StartsAtUtc, booking.LecturerId, booking.StudentId,
            booking.DurationMinutes, booking.LecturerTimeZone, booking.RecordingConsent.Lecturer, booking.RecordingConsent.Student, booking.EventId));
        return again.Booking == booking with { StartsAtUtc = TruncatedToSeconds(booking.StartsAtUtc) } ? null : $"that does not round-trip ({again.Rejection})";
    }

    private static string? ProblemWithMember(BookingEventParser parser, MemberEvent member)
    {
        if (!TableKeys.IsValidId(member.MemberId) || !EventTypes.Member.Contains(member.Type))
        {
            return "with an id or type outside the contract";
        }

        // What intake forwards to the member queues must read back as the same record there.
        var again = parser.Parse(BookingEventIntake.Minimised(member));
        return again.Member == member ? null : $"that does not round-trip through the minimised message ({again.Rejection})";
    }

    /// <summary>How <c>SubjectRegistry</c> makes pseudonyms: "sub-" and 16 random bytes in lowercase hex.</summary>
    [GeneratedRegex("^sub-[0-9a-f]{32}$", RegexOptions.CultureInvariant)]
    private static partial Regex SubjectRefPattern();

    private static DateTimeOffset TruncatedToSeconds(DateTimeOffset value) => new(value.Ticks - value.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
}
