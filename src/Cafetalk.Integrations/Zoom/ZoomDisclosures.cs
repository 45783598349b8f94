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
/// Records every Zoom meeting call in the disclosure ledger before it is made (one Intended row per party whose
/// data it carries, written in one transaction per party) and its outcome after; the returned context is declared
/// on the request, so the gate lets through only what was recorded.
/// </summary>
public sealed class ZoomDisclosures(DisclosureLedger ledger, DisclosurePolicy policy)
{
    private DisclosurePurpose Purpose => policy.GetPurpose(DisclosurePolicy.PurposeIds.ZoomLessonMeeting);

    public async Task<DisclosureContext> RecordIntentAsync(ZoomDisclosure disclosure, CancellationToken cancellationToken = default)
    {
        var purpose = Purpose;
        // The lesson is booked under the booking contract: the booking is the consent record.
        var consent = $"booking:{disclosure.BookingId}";
        var intents = new List<DisclosureIntent>();
        foreach (var (memberId, role) in new[] { (disclosure.LecturerId, SubjectRole.Lecturer), (disclosure.StudentId, SubjectRole.Student) })
        {
            var items = ItemsOf(purpose, disclosure, role);
            if (items.Count > 0)
            {
                intents.Add(new DisclosureIntent(purpose, OperationName(disclosure.Operation), memberId, role, consent,
                    disclosure.CorrelationId, disclosure.BookingId, disclosure.MeetingId, items));
            }
        }

        if (intents.Count == 0)
        {
            // A delete names only Zoom's meeting id: nothing personal leaves, so there is nothing to record.
            return DisclosureContext.WithoutPersonalData(purpose);
        }

        var handles = await ledger.RecordIntentsAsync(intents, cancellationToken);
        return DisclosureContext.For(purpose, handles);
    }

    public Task RecordOutcomeAsync(DisclosureContext context, ZoomCallOutcome outcome, string? meetingId, CancellationToken cancellationToken = default) =>
        context.Intents.Count == 0 ? Task.CompletedTask : ledger.RecordOutcomesAsync(
            context.Intents.Select(h => new DisclosureResult(h, outcome == ZoomCallOutcome.Succeeded ? DisclosureOutcome.Succeeded : DisclosureOutcome.Failed, meetingId)),
            cancellationToken);

    /// <summary>The fields of this call that are this party's data, by the policy's owner of each field.</summary>
    private static List<string> ItemsOf(DisclosurePurpose purpose, ZoomDisclosure disclosure, SubjectRole role)
    {
        var sent = new HashSet<string>(disclosure.Fields, StringComparer.Ordinal);
        if (disclosure.Operation != ZoomOperation.DeleteMeeting)
        {
            sent.Add("path:hostId");
        }

        return purpose.Fields
            .Where(f => sent.Contains(f.Path) && (f.Owner == DataOwner.Both || f.Owner.ToString() == role.ToString()))
            .Select(f => f.Path)
            .ToList();
    }

    private static string OperationName(ZoomOperation operation) => operation switch
    {
        ZoomOperation.CreateMeeting => "create",
        ZoomOperation.UpdateMeeting => "update",
        ZoomOperation.DeleteMeeting => "delete",
        _ => "look-up",
    };
}
