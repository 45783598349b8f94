using System.Threading.RateLimiting;
using Cafetalk.Integrations.Storage;
using Polly.Retry;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>
/// What differs between providers' API clients, handed to <see cref="ProviderHttpClients.AddProviderPipeline{TOptions}"/>,
/// which builds every one of them in the same order. <typeparamref name="TOptions"/> holds the provider's retry and timeout settings.
/// </summary>
public sealed class ProviderHttpPipeline<TOptions>
    where TOptions : ProviderRetryOptions
{
    /// <summary>Whom the requests disclose to: the disclosure gate checks every body against this recipient's allowlist.</summary>
    public required Recipient Recipient { get; init; }

    /// <summary>The resilience pipeline's name (its telemetry tag), e.g. <c>zoom-api</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Which failed attempts may be sent again: what the provider's API makes safe to repeat.</summary>
    public required Func<RetryPredicateArguments<HttpResponseMessage>, TOptions, IServiceProvider, ValueTask<bool>> ShouldRetry { get; init; }

    /// <summary>The client's base address, when its calls are relative.</summary>
    public Func<TOptions, Uri>? BaseAddress { get; init; }

    /// <summary>Whether a 429's <c>Retry-After</c> sets the wait (otherwise <see cref="RetryDelay"/> or the backoff does).</summary>
    public bool HonourRetryAfter { get; init; } = true;

    /// <summary>The wait before a retry when the provider says it (null: the exponential backoff decides).</summary>
    public Func<RetryDelayGeneratorArguments<HttpResponseMessage>, TOptions, IServiceProvider, TimeSpan?>? RetryDelay { get; init; }

    /// <summary>A limiter every attempt waits on (a provider's rate budget); owned by DI, not by the pipeline.</summary>
    public Func<IServiceProvider, RateLimiter>? Pacing { get; init; }

    /// <summary>The handler that puts the provider's credential on each attempt.</summary>
    public Func<IServiceProvider, DelegatingHandler>? Credentials { get; init; }
}
