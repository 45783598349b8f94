using System.Net;

namespace Cafetalk.Integrations.Zoom;

/// <summary>
/// Zoom answered a call with an error we do not retry in place. The message holds the operation, the HTTP status
/// and Zoom's numeric error code, never Zoom's text (it can quote an email address).
/// </summary>
public sealed class ZoomApiException(string operation, HttpStatusCode status, int? zoomCode)
    : Exception($"Zoom {operation} failed with HTTP {(int)status}{(zoomCode is null ? string.Empty : $" (Zoom code {zoomCode})")}.")
{
    public string Operation { get; } = operation;
    public HttpStatusCode Status { get; } = status;
    public int? ZoomCode { get; } = zoomCode;
}

/// <summary>The Server-to-Server OAuth token could not be obtained: wrong credentials, a disabled app or Zoom down.</summary>
public sealed class ZoomAuthenticationException(HttpStatusCode? status, string reason, Exception? inner = null)
    : Exception($"Zoom token request failed{(status is null ? string.Empty : $" with HTTP {(int)status}")}: {reason}.", inner)
{
    public HttpStatusCode? Status { get; } = status;
}

/// <summary>
/// A host has used its 100 meeting creates/updates for this UTC day. The work is not retried hot: it goes back to
/// the queue, invisible until <see cref="RetryAfterUtc"/>.
/// </summary>
public sealed class ZoomDailyLimitReachedException(string hostId, DateTimeOffset retryAfterUtc)
    : Exception($"Zoom host {hostId} reached its daily meeting create/update limit; retry after {retryAfterUtc:O}.")
{
    public string HostId { get; } = hostId;
    public DateTimeOffset RetryAfterUtc { get; } = retryAfterUtc;
}

/// <summary>Every attempt to reserve a pool host's slots lost to another placement; the message is retried later.</summary>
public sealed class ZoomHostReservationContentionException(string bookingId, int attempts)
    : Exception($"Pool host slots for booking {bookingId} were taken concurrently on each of {attempts} attempts.");
