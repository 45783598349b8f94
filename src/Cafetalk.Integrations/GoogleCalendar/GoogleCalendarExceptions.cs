using System.Net;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>
/// The Calendar API answered an error we do not handle in place. The message holds the call, the HTTP status and
/// Google's reason code, never Google's text (it can quote request values).
/// </summary>
public sealed class CalendarApiException(string operation, HttpStatusCode status, string? reason)
    : Exception($"Google Calendar {operation} failed with HTTP {(int)status}{(reason is null ? string.Empty : $" ({reason})")}.")
{
    public string Operation { get; } = operation;
    public HttpStatusCode Status { get; } = status;
    public string? Reason { get; } = reason;

    /// <summary>Google's rate limits answer 403 or 429 with these reasons; any other 403 is a refusal, not a wait.</summary>
    public bool IsRateLimit => Reason is "rateLimitExceeded" or "userRateLimitExceeded";
}

/// <summary>
/// Google's token endpoint refused a call (exchange, refresh or revoke). <see cref="IsRevoked"/> is true for
/// <c>invalid_grant</c> on refresh: the lecturer withdrew access, so retrying can never succeed.
/// </summary>
public sealed class GoogleAuthorizationException(string operation, string error, HttpStatusCode? status = null, Exception? inner = null)
    : Exception($"Google OAuth {operation} failed{(status is null ? string.Empty : $" with HTTP {(int)status}")}: {error}.", inner)
{
    public string Operation { get; } = operation;
    public string Error { get; } = error;
    public bool IsRevoked => Error == "invalid_grant";
}
