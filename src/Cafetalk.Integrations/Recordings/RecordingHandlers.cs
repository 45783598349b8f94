using System.Net;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Vimeo;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Recordings;

/// <summary>
/// Runs one <c>zoom-events</c> message: <c>recording.completed</c> goes to the <see cref="RecordingArchiver"/>,
/// <c>meeting.ended</c> needs nothing here. Work that must wait (Vimeo not yet reporting the upload complete, Vimeo's
/// rate limit, another instance uploading, a token lacking scopes) goes back on the queue, invisible until it may run;
/// other failures throw so the host retries.
/// </summary>
public sealed class RecordingEventsHandler(
    RecordingArchiver archiver,
    VimeoScopeCheck scopes,
    QueueRescheduler rescheduler,
    PoisonQueue poison,
    StorageAccount storage,
    TimeProvider time,
    ILogger<RecordingEventsHandler> logger)
{
    /// <summary>How long a recording waits for a Vimeo token with the scopes it needs before it looks again.</summary>
    internal static readonly TimeSpan ScopeRecheck = TimeSpan.FromHours(1);

    /// <summary>What a refused message is kept as: the original may hold a download token, which must not be stored twice.</summary>
    internal const string WithheldMessage = "(withheld: a zoom-events message can hold a download token)";

    public async Task<RecordingResult?> HandleAsync(string message, string? messageId, CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var correlationId = messageId ?? Guid.NewGuid().ToString("N");
        var parsed = ZoomEventMessage.TryParse(message);
        if (parsed is null || (parsed.Event == ZoomEventMessage.RecordingCompleted && parsed.MeetingId is null))
        {
            await poison.RejectAsync(QueueNames.ZoomEvents, WithheldMessage, RejectionReasons.InvalidField, "message is not a minimised Zoom event with a meeting id", correlationId, cancellationToken);
            logger.LogWarning("Rejected {Queue} message {CorrelationId}: not a minimised Zoom event", QueueNames.ZoomEvents, correlationId);
            return null;
        }

        if (parsed.Event != ZoomEventMessage.RecordingCompleted)
        {
            return null;
        }

        try
        {
            var result = await archiver.ArchiveAsync(parsed, correlationId, cancellationToken);
            if (result is { Outcome: RecordingOutcome.Deferred, RetryAtUtc: { } retryAt })
            {
                await rescheduler.RescheduleAsync(QueueNames.ZoomEvents, message, retryAt, cancellationToken);
            }

            return result;
        }
        catch (VimeoRateLimitedException ex)
        {
            await rescheduler.RescheduleAsync(QueueNames.ZoomEvents, message, ex.RetryAfterUtc, cancellationToken);
            logger.LogWarning("Vimeo rate limit reached during {Operation}; recording of meeting {MeetingId} retried after {RetryAtUtc:O}", ex.Operation, parsed.MeetingId, ex.RetryAfterUtc);
            return new RecordingResult(RecordingOutcome.Deferred, RetryAtUtc: ex.RetryAfterUtc);
        }
        catch (VimeoScopesMissingException ex)
        {
            var retryAt = time.GetUtcNow() + ScopeRecheck;
            await rescheduler.RescheduleAsync(QueueNames.ZoomEvents, message, retryAt, cancellationToken);
            logger.LogError("Vimeo token lacks scopes {MissingScopes}; recording of meeting {MeetingId} waits until {RetryAtUtc:O}", string.Join(' ', ex.Missing), parsed.MeetingId, retryAt);
            return new RecordingResult(RecordingOutcome.Deferred, RetryAtUtc: retryAt);
        }
        catch (VimeoApiException ex) when (ex.Status == HttpStatusCode.Forbidden)
        {
            // Vimeo answers a token lacking an operation's scope with 403 (vimeo.contract.json scope-refusal-body), even
            // after this process saw the scopes suffice: wait as for a missing scope, and ask Vimeo for them again first.
            scopes.Forget();
            var retryAt = time.GetUtcNow() + ScopeRecheck;
            await rescheduler.RescheduleAsync(QueueNames.ZoomEvents, message, retryAt, cancellationToken);
            logger.LogError("Vimeo refused {Operation} with HTTP 403 (the token lacks a scope it needs); recording of meeting {MeetingId} waits until {RetryAtUtc:O} and the token's scopes are checked again", ex.Operation, parsed.MeetingId, retryAt);
            return new RecordingResult(RecordingOutcome.Deferred, RetryAtUtc: retryAt);
        }
    }
}

/// <summary>Runs one <c>recording-converge</c> message: a cancelled booking's Vimeo video is deleted.</summary>
public sealed class RecordingConvergeHandler(
    RecordingDeleter deleter,
    QueueRescheduler rescheduler,
    PoisonQueue poison,
    StorageAccount storage,
    ILogger<RecordingConvergeHandler> logger)
{
    public async Task<bool> HandleAsync(string message, string? messageId, CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var correlationId = messageId ?? Guid.NewGuid().ToString("N");
        if (ConvergeRequest.TryParse(message) is not { } request)
        {
            await poison.RejectAsync(QueueNames.RecordingConverge, message, RejectionReasons.InvalidField, "message is not {lecturerId, bookingId}", correlationId, cancellationToken);
            logger.LogWarning("Rejected {Queue} message {CorrelationId}: not a converge request", QueueNames.RecordingConverge, correlationId);
            return false;
        }

        try
        {
            return await deleter.ConvergeAsync(request.LecturerId, request.BookingId, correlationId, cancellationToken);
        }
        catch (VimeoRateLimitedException ex)
        {
            await rescheduler.RescheduleAsync(QueueNames.RecordingConverge, message, ex.RetryAfterUtc, cancellationToken);
            logger.LogWarning("Vimeo rate limit reached; booking {BookingId} converges after {RetryAtUtc:O}", request.BookingId, ex.RetryAfterUtc);
            return false;
        }
    }
}
