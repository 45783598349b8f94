using System.Net;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.GoogleCalendar.Api;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>Registers the Google Calendar capability: options, the OAuth and Calendar pipelines, the converger, the connect routes and the nightly sync.</summary>
public static class GoogleCalendarServiceCollectionExtensions
{
    public const string ApiPipelineName = "google-calendar-api";
    public const string OAuthPipelineName = "google-oauth";

    public static IServiceCollection AddGoogleCalendar(this IServiceCollection services)
    {
        services.AddOptions<GoogleCalendarOptions>().BindConfiguration(GoogleCalendarOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GoogleCalendarOptions>, GoogleCalendarOptionsValidator>());
        services.TryAddSingleton<ConnectTickets>();
        services.TryAddSingleton<SpentConnectTickets>();
        services.TryAddSingleton<Http.OneTimeFormTokens>();
        services.TryAddSingleton<CalendarEventIds>();
        services.TryAddSingleton<CalendarConnections>();
        services.TryAddSingleton<CalendarWatchChannels>();
        services.TryAddTransient<CalendarWatches>();
        services.TryAddTransient<CalendarNotifications>();
        services.TryAddTransient<CalendarChangeSync>();
        services.TryAddSingleton<CalendarConnectStates>();
        services.TryAddSingleton<GoogleDisclosures>();
        services.TryAddSingleton<GoogleAuthorization>();
        services.TryAddSingleton<CalendarClientFactory>();
        services.TryAddSingleton<CalendarRevocations>();
        services.TryAddSingleton<CalendarRecreations>();
        services.TryAddTransient<CalendarEventConverger>();
        services.TryAddTransient<CalendarConvergeHandler>();
        services.TryAddTransient<CalendarNightlySync>();
        services.TryAddTransient<CalendarDisconnection>();
        services.TryAddTransient<CalendarConnectFlow>();
        services.TryAddTransient<CalendarCallbackFlow>();
        services.TryAddTransient<CalendarDisconnectFlow>();

        // The token endpoint: one attempt with a time limit. A code is single-use, so a blind retry could only fail.
        var oauth = services.AddHttpClient(GoogleAuthorization.HttpClientName);
        oauth.AddResilienceHandler(OAuthPipelineName, (pipeline, context) =>
            pipeline.AddTimeout(context.ServiceProvider.GetRequiredService<IOptions<GoogleCalendarOptions>>().Value.AttemptTimeout));
        oauth.AddDisclosureGate(DisclosurePolicy.Google);

        // Calendar v3: back off on 403 rate limits and 429 (Google.Apis retries only 503, and is switched off).
        services.AddHttpClient(CalendarClientFactory.HttpClientName).AddProviderPipeline(new ProviderHttpPipeline<GoogleCalendarOptions>
        {
            Recipient = DisclosurePolicy.Google,
            Name = ApiPipelineName,
            ShouldRetry = (args, _, _) => ShouldRetryAsync(args.Outcome),
        });
        return services;
    }

    /// <summary>429, 403 with reason rateLimitExceeded/userRateLimitExceeded, and transient failures except a calendar create (not idempotent).</summary>
    internal static async ValueTask<bool> ShouldRetryAsync(Outcome<HttpResponseMessage> outcome)
    {
        if (outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests })
        {
            return true;
        }

        if (outcome.Result is { StatusCode: HttpStatusCode.Forbidden } forbidden)
        {
            await forbidden.Content.LoadIntoBufferAsync();
            var body = await forbidden.Content.ReadAsStringAsync();
            return body.Contains("\"rateLimitExceeded\"", StringComparison.Ordinal) || body.Contains("\"userRateLimitExceeded\"", StringComparison.Ordinal);
        }

        if (!HttpClientResiliencePredicates.IsTransient(outcome))
        {
            return false;
        }

        // An events.insert carries its own id (409 on a repeat), so it is safe to send again; a calendar create is not.
        var request = outcome.Result?.RequestMessage;
        return request is null || !(request.Method == HttpMethod.Post && (request.RequestUri?.AbsolutePath.EndsWith("/calendars", StringComparison.Ordinal) ?? false));
    }
}
