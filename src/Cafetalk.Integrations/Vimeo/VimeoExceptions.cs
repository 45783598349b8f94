using System.Net;

namespace Cafetalk.Integrations.Vimeo;

/// <summary>
/// Vimeo answered a call with an error we do not retry in place. The message holds the operation, the HTTP status
/// and Vimeo's numeric error code, never Vimeo's text (it can echo the upload link with its token).
/// </summary>
public sealed class VimeoApiException(string operation, HttpStatusCode status, int? vimeoErrorCode)
    : Exception($"Vimeo {operation} failed with HTTP {(int)status}{(vimeoErrorCode is null ? string.Empty : $" (Vimeo error {vimeoErrorCode})")}.")
{
    public string Operation { get; } = operation;
    public HttpStatusCode Status { get; } = status;
    public int? VimeoErrorCode { get; } = vimeoErrorCode;
}

/// <summary>
/// Vimeo's rate limit resets later than we are willing to wait in place: the work goes back to its queue,
/// invisible until <see cref="RetryAfterUtc"/> (Vimeo's <c>X-RateLimit-Reset</c>).
/// </summary>
public sealed class VimeoRateLimitedException(string operation, DateTimeOffset retryAfterUtc)
    : Exception($"Vimeo {operation} was rate limited; retry after {retryAfterUtc:O}.")
{
    public string Operation { get; } = operation;
    public DateTimeOffset RetryAfterUtc { get; } = retryAfterUtc;
}
