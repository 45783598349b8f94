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
    QueueMessageRunner runner,
    TimeProvider time,
    ILogger<RecordingEventsHandler> logger)
{
    /// <summary>How long a recording waits for a Vimeo token with the scopes it needs before it looks again.</summary>
    internal static readonly TimeSpan ScopeRecheck = TimeSpan.FromHours(1);

    /// <summary>What a refused message is kept as: the original may hold a download token, which must not be stored twice.</summary>
    internal const string WithheldMessage = "(withheld: a zoom-events message can hold a download token)";

    public Task<RecordingResult?> HandleAsync(string message, string? messageId, CancellationToken cancellationToken = default) =>
        runner.RunAsync<ZoomEventMessage, RecordingResult?>(QueueNames.ZoomEvents, message, messageId, Read, ArchiveAsync, cancellationToken: cancellationToken);

    /// <summary>A minimised Zoom event; a refused one is kept withheld.</summary>
    private static QueueMessageReading<ZoomEventMessage> Read(string message) =>
        ZoomEventMessage.TryParse(message) is { } parsed && (parsed.Event != ZoomEventMessage.RecordingCompleted || parsed.MeetingId is not null)
            ? QueueMessageReading.Read(parsed)
            : QueueMessageReading.Refused<ZoomEventMessage>(RejectionReasons.InvalidField, "message is not a minimised Zoom event with a meeting id") with { KeptAs = WithheldMessage };

    private async Task<RecordingResult?> ArchiveAsync(QueueMessage<ZoomEventMessage> message, CancellationToken cancellationToken)
    {
        var parsed = message.Value;
        if (parsed.Event != ZoomEventMessage.RecordingCompleted)
        {
            return null;
        }

        try
        {
            var result = await archiver.ArchiveAsync(parsed, message.CorrelationId, cancellationToken);
            if (result is { Outcome: RecordingOutcome.Deferred, RetryAtUtc: { } retryAt })
            {
                await message.RetryAtAsync(retryAt, cancellationToken);
            }

            return result;
        }
        catch (VimeoRateLimitedException ex)
        {
            await message.RetryAtAsync(ex.RetryAfterUtc, cancellationToken);
            logger.LogWarning("Vimeo rate limit reached during {Operation}; recording of meeting {MeetingId} retried after {RetryAtUtc:O}", ex.Operation, parsed.MeetingId, ex.RetryAfterUtc);
            return new RecordingResult(RecordingOutcome.Deferred, RetryAtUtc: ex.RetryAfterUtc);
        }
        catch (VimeoScopesMissingException ex)
        {
            var retryAt = time.GetUtcNow() + ScopeRecheck;
            await message.RetryAtAsync(retryAt, cancellationToken);
            logger.LogError("Vimeo token lacks scopes {MissingScopes}; recording of meeting {MeetingId} waits until {RetryAtUtc:O}", string.Join(' ', ex.Missing), parsed.MeetingId, retryAt);
            return new RecordingResult(RecordingOutcome.Deferred, RetryAtUtc: retryAt);
        }
        catch (VimeoApiException ex) when (ex.Status == HttpStatusCode.Forbidden)
        {
            // Vimeo answers a token lacking an operation's scope with 403 (vimeo.contract.json scope-refusal-body), even
            // after this process saw the scopes suffice: wait as for a missing scope, and ask Vimeo for them again first.
            scopes.Forget();
            var retryAt = time.GetUtcNow() + ScopeRecheck;
            await message.RetryAtAsync(retryAt, cancellationToken);
            logger.LogError("Vimeo refused {Operation} with HTTP 403 (the token lacks a scope it needs); recording of meeting {MeetingId} waits until {RetryAtUtc:O} and the token's scopes are checked again", ex.Operation, parsed.MeetingId, retryAt);
            return new RecordingResult(RecordingOutcome.Deferred, RetryAtUtc: retryAt);
        }
    }
}

/// <summary>Runs one <c>recording-converge</c> message: a cancelled booking's Vimeo video is deleted.</summary>
public sealed class RecordingConvergeHandler(
    RecordingDeleter deleter,
    QueueMessageRunner runner,
    ILogger<RecordingConvergeHandler> logger)
{
    public Task<bool> HandleAsync(string message, string? messageId, CancellationToken cancellationToken = default) =>
        runner.RunAsync<ConvergeRequest, bool>(QueueNames.RecordingConverge, message, messageId, ConvergeRequest.Read, DeleteAsync, cancellationToken: cancellationToken);

    private async Task<bool> DeleteAsync(QueueMessage<ConvergeRequest> message, CancellationToken cancellationToken)
    {
        var request = message.Value;
        try
        {
            return await deleter.ConvergeAsync(request.LecturerId, request.BookingId, message.CorrelationId, cancellationToken);
        }
        catch (VimeoRateLimitedException ex)
        {
            await message.RetryAtAsync(ex.RetryAfterUtc, cancellationToken);
            logger.LogWarning("Vimeo rate limit reached; booking {BookingId} converges after {RetryAtUtc:O}", request.BookingId, ex.RetryAfterUtc);
            return false;
        }
    }
}
