namespace Cafetalk.Integrations.Zoom;

/// <summary>The meeting calls that send booking data to Zoom.</summary>
public enum ZoomOperation
{
    CreateMeeting,
    UpdateMeeting,
    DeleteMeeting,
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
/// The seam where the disclosure ledger records every Zoom call the converger makes: an intent before the call
/// and its outcome after it. The converger awaits both, so a ledger that cannot write stops the call.
/// </summary>
public interface IZoomDisclosureRecorder
{
    /// <summary>Writes the <c>Intended</c> row; returns the id the outcome refers to.</summary>
    Task<string> RecordIntentAsync(ZoomDisclosure disclosure, CancellationToken cancellationToken = default);

    /// <summary>Writes the <c>Succeeded</c>/<c>Failed</c> row for an intent; <paramref name="meetingId"/> is Zoom's object id when known.</summary>
    Task RecordOutcomeAsync(string intentId, ZoomDisclosure disclosure, ZoomCallOutcome outcome, string? meetingId, CancellationToken cancellationToken = default);
}

/// <summary>
/// Registered until the disclosure ledger is wired in: it records nothing. The ledger's implementation replaces it
/// by registering <see cref="IZoomDisclosureRecorder"/> (the core uses TryAdd).
/// </summary>
public sealed class UnrecordedZoomDisclosures : IZoomDisclosureRecorder
{
    public Task<string> RecordIntentAsync(ZoomDisclosure disclosure, CancellationToken cancellationToken = default) =>
        Task.FromResult(string.Empty);

    public Task RecordOutcomeAsync(string intentId, ZoomDisclosure disclosure, ZoomCallOutcome outcome, string? meetingId, CancellationToken cancellationToken = default) =>
        Task.CompletedTask;
}
