using System.ComponentModel.DataAnnotations;

namespace Cafetalk.Integrations.Storage;

/// <summary>
/// The retry and timeout settings every provider's HttpClient pipeline reads: jittered exponential retries that
/// never wait longer than <see cref="RetryMaxDelay"/> (a longer wait goes back to the queue instead).
/// Each provider sets its own defaults in its constructor.
/// </summary>
public abstract class ProviderRetryOptions
{
    [Range(0, 10)]
    public int MaxRetryAttempts { get; set; } = 4;

    /// <summary>First backoff of the jittered exponential retry.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Caps any single wait, Retry-After and X-RateLimit-Reset included.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:05:00")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    [Range(typeof(TimeSpan), "00:00:01", "00:02:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
