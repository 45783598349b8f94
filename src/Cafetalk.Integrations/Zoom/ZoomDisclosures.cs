using Cafetalk.Integrations.Disclosure;

namespace Cafetalk.Integrations.Zoom;

/// <summary>The meeting calls that send booking data to Zoom.</summary>
public enum ZoomOperation
{
    CreateMeeting,
    UpdateMeeting,
    DeleteMeeting,
    /// <summary>Listing a host's meetings to find one by its booking reference after a crash.</summary>
    FindMeeting,
    /// <summary>Reading a pool-hosted meeting for a fresh start link: the path names only the meeting.</summary>
    FetchStartLink,
}

/// <summary>How a recorded call ended.</summary>
public enum ZoomCallOutcome
{
    Succeeded,
    Failed,
}

/// <summary>
/// One disclosure to Zoom as the ledger needs it: ids and field names only, never values.
/// <paramref name="Fields"/> are the JSON paths sent (<see cref="ZoomMeetingPayload.FieldNames"/>; empty for a delete).
/// </summary>
public sealed record ZoomDisclosure(
    ZoomOperation Operation,
    string BookingId,
    string LecturerId,
    string StudentId,
    string HostId,
    string? MeetingId,
    IReadOnlyList<string> Fields,
    string CorrelationId);

/// <summary>
/// Records every Zoom meeting call in the disclosure ledger (through <see cref="DisclosureScope"/>): one Intended row
/// per party whose data it carries before it, its outcome after; the context is declared on the request, so the gate
/// lets through only what was recorded.
/// </summary>
public sealed class ZoomDisclosures(DisclosureScope scope)
{
    public Task<DisclosureContext> RecordIntentAsync(ZoomDisclosure disclosure, CancellationToken cancellationToken = default) =>
        scope.OpenAsync(Call(disclosure), cancellationToken);

    public Task RecordOutcomeAsync(DisclosureContext context, ZoomCallOutcome outcome, string? meetingId, CancellationToken cancellationToken = default) =>
        scope.CloseAsync(context, outcome == ZoomCallOutcome.Succeeded ? DisclosureOutcome.Succeeded : DisclosureOutcome.Failed, meetingId, cancellationToken);

    /// <summary>Intent before, outcome after (Failed even when the caller gave up), the call in between.</summary>
    public Task<T> DiscloseAsync<T>(ZoomDisclosure disclosure, Func<DisclosureContext, Task<T>> call, Func<T, string?> meetingIdOf, CancellationToken cancellationToken = default) =>
        scope.RunAsync(Call(disclosure), call, meetingIdOf, cancellationToken);

    private static DisclosureCall Call(ZoomDisclosure disclosure)
    {
        var sent = new HashSet<string>(disclosure.Fields, StringComparer.Ordinal);
        if (disclosure.Operation is not (ZoomOperation.DeleteMeeting or ZoomOperation.FetchStartLink))
        {
            // The host is the lecturer's Zoom user: named in the path of every call but those naming only the meeting.
            sent.Add("path:hostId");
        }

        // The lesson is booked under the booking contract: the booking is the consent record.
        return new DisclosureCall(DisclosurePolicy.PurposeIds.ZoomLessonMeeting, OperationName(disclosure.Operation),
            [(disclosure.LecturerId, SubjectRole.Lecturer), (disclosure.StudentId, SubjectRole.Student)], sent,
            $"booking:{disclosure.BookingId}", disclosure.CorrelationId, disclosure.BookingId, disclosure.MeetingId);
    }

    private static string OperationName(ZoomOperation operation) => operation switch
    {
        ZoomOperation.CreateMeeting => "create",
        ZoomOperation.UpdateMeeting => "update",
        ZoomOperation.DeleteMeeting => "delete",
        ZoomOperation.FetchStartLink => "start-link",
        _ => "look-up",
    };
}
