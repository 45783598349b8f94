using System.Net;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Cafetalk.Integrations.Vimeo;

/// <summary>Registers the Vimeo capability: options, the resilient gated API client, the upload client, lecturers' folders.</summary>
public static class VimeoServiceCollectionExtensions
{
    public const string ApiPipelineName = "vimeo-api";

    public static IServiceCollection AddVimeo(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<VimeoOptions>()
            .Bind(configuration.GetSection(VimeoOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.TryAddTransient<VimeoAuthenticationHandler>();
        services.TryAddSingleton<RecordingReferences>();
        services.TryAddSingleton<RecordingDisclosures>();
        services.TryAddSingleton<QueueRescheduler>();
        services.TryAddTransient<VimeoFolders>();
        services.TryAddSingleton<VimeoScopeCheck.State>();
        services.TryAddTransient<VimeoScopeCheck>();
        services.TryAddSingleton<RecordingFailures>();
        services.AddHostedService<VimeoScopeStartupCheck>();

        // Outer to inner: total timeout, retries (429 waits until X-RateLimit-Reset), per-attempt timeout, token,
        // then the disclosure gate innermost (added last), where it sees the exact bytes sent.
        var api = services.AddHttpClient<VimeoClient>((provider, http) =>
        {
            http.BaseAddress = provider.GetRequiredService<IOptions<VimeoOptions>>().Value.ApiBaseAddress;
            // The pipeline owns time limits; HttpClient's own would cut retries short.
            http.Timeout = Timeout.InfiniteTimeSpan;
        });
        api.AddResilienceHandler(ApiPipelineName, (pipeline, context) =>
        {
            var vimeo = context.ServiceProvider.GetRequiredService<IOptions<VimeoOptions>>().Value;
            var time = context.ServiceProvider.GetRequiredService<TimeProvider>();
            pipeline.AddTimeout((vimeo.AttemptTimeout + vimeo.RetryMaxDelay) * (vimeo.MaxRetryAttempts + 1));
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(vimeo.MaxRetryAttempts, 1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = vimeo.RetryBaseDelay,
                MaxDelay = vimeo.RetryMaxDelay,
                ShouldRetryAfterHeader = false,
                ShouldHandle = args => ValueTask.FromResult(vimeo.MaxRetryAttempts > 0 && ShouldRetry(args.Outcome, args.Context, vimeo, time.GetUtcNow())),
                DelayGenerator = args => ValueTask.FromResult(RateLimitWait(args.Outcome, time.GetUtcNow())),
            });
            pipeline.AddTimeout(vimeo.AttemptTimeout);
        });
        api.AddHttpMessageHandler<VimeoAuthenticationHandler>();
        api.AddDisclosureGate(DisclosurePolicy.Vimeo);

        // The upload link is its own credential on Vimeo's upload host: no API token, no retry (a failed chunk is
        // resumed from Vimeo's offset), and a chunk may take minutes on a slow line. Each upload's bytes are in the
        // ledger (operation "upload") before the first chunk; the gate cannot read a binary body.
        // HttpClient's own logging would write the upload link (a credential): off.
        services.AddHttpClient<VimeoTusClient>(http => http.Timeout = TimeSpan.FromMinutes(10)).RemoveAllLoggers();
        return services;
    }

    /// <summary>
    /// A 429 means Vimeo did nothing, so any call may wait for the reset — if it comes within the wait we allow;
    /// later resets go back to the queue. Other transient failures are retried except for creates (POST): one that
    /// failed after it left may exist, and the archiver's reference look-up repairs it instead of a blind re-send.
    /// </summary>
    internal static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, ResilienceContext context, VimeoOptions vimeo, DateTimeOffset now)
    {
        if (outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests } throttled)
        {
            return VimeoClient.RateLimitResetOf(throttled) is not { } reset || reset - now <= vimeo.RetryMaxDelay;
        }

        if (!HttpClientResiliencePredicates.IsTransient(outcome))
        {
            return false;
        }

        var method = outcome.Result?.RequestMessage?.Method ?? context.GetRequestMessage()?.Method;
        return method != HttpMethod.Post;
    }

    /// <summary>The reset is given to the second and our clock may trail Vimeo's: a little more wait than it says.</summary>
    internal static readonly TimeSpan ResetSkewAllowance = TimeSpan.FromMilliseconds(250);

    /// <summary>Waits until Vimeo's reset on a 429 that names one; null lets the exponential backoff decide.</summary>
    internal static TimeSpan? RateLimitWait(Outcome<HttpResponseMessage> outcome, DateTimeOffset now) =>
        outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests } throttled && VimeoClient.RateLimitResetOf(throttled) is { } reset
            ? (reset > now ? reset - now : TimeSpan.Zero) + ResetSkewAllowance
            : null;
}
