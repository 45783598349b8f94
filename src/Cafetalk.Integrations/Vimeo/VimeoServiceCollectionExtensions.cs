using System.Net;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
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

        // A 429 waits until X-RateLimit-Reset rather than for Retry-After, which Vimeo does not send.
        services.AddHttpClient<VimeoClient>().AddProviderPipeline(new ProviderHttpPipeline<VimeoOptions>
        {
            Recipient = DisclosurePolicy.Vimeo,
            Name = ApiPipelineName,
            BaseAddress = vimeo => vimeo.ApiBaseAddress,
            ShouldRetry = (args, vimeo, provider) => ValueTask.FromResult(ShouldRetry(args.Outcome, args.Context, vimeo, provider.GetRequiredService<TimeProvider>().GetUtcNow())),
            HonourRetryAfter = false,
            RetryDelay = (args, _, provider) => RateLimitWait(args.Outcome, provider.GetRequiredService<TimeProvider>().GetUtcNow()),
            Credentials = provider => provider.GetRequiredService<VimeoAuthenticationHandler>(),
        });

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
