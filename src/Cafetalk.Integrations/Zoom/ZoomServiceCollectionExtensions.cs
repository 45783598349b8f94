using System.Net;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace Cafetalk.Integrations.Zoom;

/// <summary>Registers the Zoom capability: options, token cache, the resilient API client and the converger.</summary>
public static class ZoomServiceCollectionExtensions
{
    public const string ApiPipelineName = "zoom-api";
    public const string OAuthPipelineName = "zoom-oauth";

    public static IServiceCollection AddZoom(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ZoomOptions>()
            .Bind(configuration.GetSection(ZoomOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.TryAddSingleton<ZoomTokenProvider>();
        services.TryAddTransient<ZoomAuthenticationHandler>();
        services.TryAddSingleton<ZoomBookingReference>();
        services.TryAddSingleton<ZoomHostDirectory>();
        services.TryAddSingleton<ZoomHostPool>();
        services.TryAddSingleton<ZoomHostReservations>();
        services.TryAddSingleton<ZoomHostPlacer>();
        services.TryAddTransient<ZoomStartLinkFlow>();
        services.TryAddSingleton<ZoomDailyLimit>();
        services.TryAddSingleton<ZoomWebhookVerifier>();
        services.TryAddSingleton<ZoomWebhookHandler>();
        services.TryAddSingleton<QueueRescheduler>();
        services.TryAddSingleton<ZoomDisclosures>();
        services.TryAddTransient<MeetingConverger>();
        services.TryAddTransient<ZoomDriftRepair>();
        services.TryAddTransient<ZoomConvergeHandler>();
        services.TryAddTransient<ZoomMeetingChanges>();
        // Paced on the system clock, the one Zoom counts by: a test's fake business clock must not stall or rush requests.
        services.TryAddSingleton(provider => new ZoomRateBudget(
            provider.GetRequiredService<StorageAccount>(),
            provider.GetRequiredService<IOptions<ZoomOptions>>(),
            provider.GetRequiredService<ILogger<ZoomRateBudget>>(),
            TimeProvider.System));

        services.AddHttpClient(ZoomTokenProvider.HttpClientName, (provider, http) =>
                http.BaseAddress = provider.GetRequiredService<IOptions<ZoomOptions>>().Value.OAuthBaseAddress)
            .AddResilienceHandler(OAuthPipelineName, (pipeline, context) =>
            {
                var zoom = context.ServiceProvider.GetRequiredService<IOptions<ZoomOptions>>().Value;
                // Asking for a token changes nothing at Zoom, so any transient failure may be retried.
                pipeline.AddRetry(ProviderHttpClients.Retry(zoom, args => ValueTask.FromResult(HttpClientResiliencePredicates.IsTransient(args.Outcome))));
                pipeline.AddTimeout(zoom.AttemptTimeout);
            });
        services.AddHttpClient(ZoomTokenProvider.HttpClientName).AddDisclosureGate(DisclosurePolicy.Zoom);

        AddApiClient<ZoomClient>(services);
        AddApiClient<ZoomRecordingsClient>(services);

        // A recording's download: redirects are followed by the downloader itself, so the token never reaches another
        // host; the body streams for as long as the file takes (the recording archive bounds each attempt).
        services.AddHttpClient<ZoomRecordingDownloader>(http => http.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(30) })
            .RemoveAllLoggers();

        return services;
    }

    /// <summary>A typed client on the Zoom REST API, paced by the account's one budget (for both clients and every instance).</summary>
    private static void AddApiClient<TClient>(IServiceCollection services)
        where TClient : class =>
        services.AddHttpClient<TClient>().AddProviderPipeline(new ProviderHttpPipeline<ZoomOptions>
        {
            Recipient = DisclosurePolicy.Zoom,
            Name = ApiPipelineName,
            BaseAddress = zoom => zoom.ApiBaseAddress,
            ShouldRetry = (args, _, _) => ShouldRetryAsync(args.Outcome, args.Context),
            Pacing = provider => provider.GetRequiredService<ZoomRateBudget>(),
            Credentials = provider => provider.GetRequiredService<ZoomAuthenticationHandler>(),
        });

    /// <summary>5xx, 408, timeouts and 429 (Retry-After honoured), never the daily limit, and never a create that may have arrived.</summary>
    internal static async ValueTask<bool> ShouldRetryAsync(Outcome<HttpResponseMessage> outcome, ResilienceContext context)
    {
        if (outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests } throttled)
        {
            // A 429 means Zoom did nothing, so even a create is safe to send again — unless the day is spent.
            return !await ZoomClient.IsDailyLimitAsync(throttled, context.CancellationToken);
        }

        if (!HttpClientResiliencePredicates.IsTransient(outcome))
        {
            return false;
        }

        // A create that failed after it left may exist in Zoom; re-sending blind would duplicate it. The converger's
        // lease and agenda lookup repair it instead.
        var method = outcome.Result?.RequestMessage?.Method ?? context.GetRequestMessage()?.Method;
        return method != HttpMethod.Post;
    }
}
