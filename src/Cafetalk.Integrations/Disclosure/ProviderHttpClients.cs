using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>The one way a provider's API client is built, so every provider's requests pass the same handlers in the same order.</summary>
public static class ProviderHttpClients
{
    /// <summary>
    /// Handlers run outer to inner: total timeout, retries, the provider's pacing, the attempt timeout, then its credentials
    /// (so every attempt carries a current one), then the disclosure gate next to the wire, where it sees the exact bytes
    /// sent. The client's own timeout is off: the pipeline owns time limits, and HttpClient's would cut retries short.
    /// </summary>
    public static IHttpClientBuilder AddProviderPipeline<TOptions>(this IHttpClientBuilder client, ProviderHttpPipeline<TOptions> pipeline)
        where TOptions : ProviderRetryOptions
    {
        client.ConfigureHttpClient((services, http) =>
        {
            if (pipeline.BaseAddress is { } baseAddress)
            {
                http.BaseAddress = baseAddress(services.GetRequiredService<IOptions<TOptions>>().Value);
            }

            http.Timeout = Timeout.InfiniteTimeSpan;
        });
        client.AddResilienceHandler(pipeline.Name, (builder, context) =>
        {
            var services = context.ServiceProvider;
            var options = services.GetRequiredService<IOptions<TOptions>>().Value;
            builder.AddTimeout((options.AttemptTimeout + options.RetryMaxDelay) * (options.MaxRetryAttempts + 1));
            var retry = Retry(options, args => pipeline.ShouldRetry(args, options, services), pipeline.HonourRetryAfter);
            if (pipeline.RetryDelay is { } delay)
            {
                retry.DelayGenerator = args => ValueTask.FromResult(delay(args, options, services));
            }

            builder.AddRetry(retry);
            if (pipeline.Pacing is { } pacing)
            {
                builder.AddRateLimiter(pacing(services));
            }

            builder.AddTimeout(options.AttemptTimeout);
        });
        if (pipeline.Credentials is { } credentials)
        {
            client.AddHttpMessageHandler(credentials);
        }

        return client.AddDisclosureGate(pipeline.Recipient);
    }

    /// <summary>Jittered exponential retries from <paramref name="options"/>; none at all when its MaxRetryAttempts is 0.</summary>
    public static HttpRetryStrategyOptions Retry(ProviderRetryOptions options, Func<RetryPredicateArguments<HttpResponseMessage>, ValueTask<bool>> shouldRetry, bool honourRetryAfter = true) => new()
    {
        // Polly wants at least one attempt; a setting of 0 is kept by the predicate saying no.
        MaxRetryAttempts = Math.Max(options.MaxRetryAttempts, 1),
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        Delay = options.RetryBaseDelay,
        MaxDelay = options.RetryMaxDelay,
        ShouldRetryAfterHeader = honourRetryAfter,
        ShouldHandle = async args => options.MaxRetryAttempts > 0 && await shouldRetry(args),
    };
}
