namespace Cafetalk.Integrations.Http;

/// <summary>How reading a request body ended.</summary>
public enum BodyReadOutcome
{
    Read,
    /// <summary>More than the route's limit arrived (or was announced): answer 413.</summary>
    TooLarge,
    /// <summary>The body did not arrive in time, or the server cut a slow sender off: answer 408.</summary>
    TooSlow,
    /// <summary>The server refused the body for another reason (cut short, malformed chunking): the caller's fault, answer 400.</summary>
    Unreadable,
}
