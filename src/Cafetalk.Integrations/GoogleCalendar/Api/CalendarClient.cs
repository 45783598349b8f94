using System.Net;
using Cafetalk.Integrations.Disclosure;
using Google;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Http;
using Google.Apis.Requests;
using Google.Apis.Services;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.GoogleCalendar.Api;

/// <summary>What an insert found: created now, the id already taken, or the calendar gone.</summary>
public enum EventInsertOutcome
{
    Created,
    /// <summary>409, or 403 other than a rate limit: the id is held by an event, live or deleted (Google keeps deleted ids).</summary>
    AlreadyExists,
    /// <summary>404: the calendar itself is gone (deleted by the lecturer).</summary>
    CalendarGone,
}

/// <summary>One page of changes; <see cref="SyncTokenExpired"/> when Google answered 410 and a full sync is needed, <see cref="CalendarGone"/> on 404.</summary>
public sealed record EventChanges(IReadOnlyList<Event> Items, string? NextPageToken, string? NextSyncToken, bool SyncTokenExpired, bool CalendarGone = false);

/// <summary>
/// The calls we make to Calendar v3 for one lecturer, on <see cref="CalendarService"/> with an access token from
/// Google.Apis.Auth. Every request declares its disclosure; retries on 403 rate limits and 429 live in the
/// HttpClient pipeline, so Google.Apis' own back-off (503 only) is switched off.
/// </summary>
public sealed class CalendarClient : IDisposable
{
    private readonly CalendarService _service;

    internal CalendarClient(CalendarService service) => _service = service;

    public async Task<Calendar> InsertCalendarAsync(Calendar calendar, DisclosureContext disclosure, CancellationToken cancellationToken = default) =>
        await RunAsync(new CalendarsInsertRequest(_service, calendar), disclosure, "calendars.insert", cancellationToken);

    /// <summary>Deletes the calendar; false when it was already gone.</summary>
    public Task<bool> DeleteCalendarAsync(string calendarId, DisclosureContext disclosure, CancellationToken cancellationToken = default) =>
        UnlessGoneAsync(() => RunAsync(new CalendarsDeleteRequest(_service, calendarId), disclosure, "calendars.delete", cancellationToken));

    public async Task<EventInsertOutcome> InsertEventAsync(string calendarId, Event body, DisclosureContext disclosure, CancellationToken cancellationToken = default)
    {
        try
        {
            await RunAsync(new EventsInsertRequest(_service, body, calendarId) { SendUpdates = SendUpdates.None }, disclosure, "events.insert", cancellationToken);
            return EventInsertOutcome.Created;
        }
        catch (CalendarApiException ex) when (ex.Status == HttpStatusCode.Conflict || (ex.Status == HttpStatusCode.Forbidden && !ex.IsRateLimit))
        {
            return EventInsertOutcome.AlreadyExists;
        }
        catch (CalendarApiException ex) when (ex.Status == HttpStatusCode.NotFound)
        {
            return EventInsertOutcome.CalendarGone;
        }
    }

    /// <summary>Replaces the whole event (fields not sent are cleared; status confirmed restores a deleted one); false when Google no longer has it (404/410).</summary>
    public Task<bool> UpdateEventAsync(string calendarId, string eventId, Event body, DisclosureContext disclosure, CancellationToken cancellationToken = default) =>
        UnlessGoneAsync(() => RunAsync(new EventsUpdateRequest(_service, body, calendarId, eventId) { SendUpdates = SendUpdates.None }, disclosure, "events.update", cancellationToken));

    /// <summary>Deletes the event; false when it was already gone (404/410 count as done).</summary>
    public Task<bool> DeleteEventAsync(string calendarId, string eventId, DisclosureContext disclosure, CancellationToken cancellationToken = default) =>
        UnlessGoneAsync(() => RunAsync(new EventsDeleteRequest(_service, calendarId, eventId) { SendUpdates = SendUpdates.None }, disclosure, "events.delete", cancellationToken));

    /// <summary>The event, or null when Google does not have it.</summary>
    public async Task<Event?> GetEventAsync(string calendarId, string eventId, DisclosureContext disclosure, CancellationToken cancellationToken = default)
    {
        try
        {
            return await RunAsync(new EventsGetRequest(_service, calendarId, eventId), disclosure, "events.get", cancellationToken);
        }
        catch (CalendarApiException ex) when (ex.Status is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            return null;
        }
    }

    /// <summary>
    /// One page of events changed since <paramref name="syncToken"/>, or of all events when it is null; deleted ones
    /// included either way, since an incremental listing must repeat the full listing's parameters.
    /// </summary>
    public async Task<EventChanges> ListEventsAsync(string calendarId, string? syncToken, string? pageToken, DisclosureContext disclosure, CancellationToken cancellationToken = default)
    {
        var request = new EventsListRequest(_service, calendarId)
        {
            SyncToken = syncToken,
            PageToken = pageToken,
            // Deleted events too, so a lesson deleted by hand is seen and restored; sent on every page and every incremental listing alike.
            ShowDeleted = true,
            MaxResults = 250,
        };
        try
        {
            var page = await RunAsync(request, disclosure, "events.list", cancellationToken);
            return new EventChanges([.. page.Items ?? []], page.NextPageToken, page.NextSyncToken, false);
        }
        catch (CalendarApiException ex) when (ex.Status == HttpStatusCode.Gone && syncToken is not null)
        {
            return new EventChanges([], null, null, true);
        }
        catch (CalendarApiException ex) when (ex.Status == HttpStatusCode.NotFound)
        {
            return new EventChanges([], null, null, false, CalendarGone: true);
        }
    }

    /// <summary>Opens a channel on the calendar's events; Google answers with its resource id and the expiration it granted.</summary>
    public async Task<Channel> WatchEventsAsync(string calendarId, Channel channel, DisclosureContext disclosure, CancellationToken cancellationToken = default) =>
        await RunAsync(new EventsWatchRequest(_service, channel, calendarId), disclosure, "events.watch", cancellationToken);

    /// <summary>Stops a channel; false when Google no longer knew it (404), which counts as stopped.</summary>
    public Task<bool> StopChannelAsync(string channelId, string resourceId, DisclosureContext disclosure, CancellationToken cancellationToken = default) =>
        UnlessGoneAsync(() => RunAsync(new ChannelsStopRequest(_service, new Channel { Id = channelId, ResourceId = resourceId }), disclosure, "channels.stop", cancellationToken));

    /// <summary>True when the call went through; false when Google answered 404/410 (the object is gone, which counts as done).</summary>
    private static async Task<bool> UnlessGoneAsync<T>(Func<Task<T>> call)
    {
        try
        {
            await call();
            return true;
        }
        catch (CalendarApiException ex) when (ex.Status is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            return false;
        }
    }

    private static async Task<T> RunAsync<T>(ClientServiceRequest<T> request, DisclosureContext disclosure, string operation, CancellationToken cancellationToken)
    {
        request.AddExecuteInterceptor(new DisclosureInterceptor(disclosure));
        try
        {
            return await request.ExecuteAsync(cancellationToken);
        }
        catch (GoogleApiException ex)
        {
            // Google's message can quote request values; only the status and the reason code are kept.
            throw new CalendarApiException(operation, ex.HttpStatusCode, ex.Error?.Errors?.FirstOrDefault()?.Reason);
        }
    }

    public void Dispose() => _service.Dispose();
}

/// <summary>Makes <see cref="CalendarClient"/>s for a lecturer's access token on the gated, resilient HttpClient pipeline.</summary>
public sealed class CalendarClientFactory(IHttpMessageHandlerFactory handlers, IOptions<GoogleCalendarOptions> options)
{
    public const string HttpClientName = "google-calendar";

    public CalendarClient Create(string accessToken) => new(new CalendarService(new BaseClientService.Initializer
    {
        HttpClientInitializer = GoogleCredential.FromAccessToken(accessToken),
        HttpClientFactory = new PipelineHttpClientFactory(handlers, HttpClientName),
        ApplicationName = "Cafetalk.Integrations",
        BaseUri = new Uri(options.Value.ApiBaseAddress, "calendar/v3/").ToString(),
        // The gate reads JSON bodies; gzip would hide them. Retries are the pipeline's.
        GZipEnabled = false,
        DefaultExponentialBackOffPolicy = ExponentialBackOffPolicy.None,
    }));
}

/// <summary>Hands Google.Apis the message handler of a named IHttpClientFactory client (resilience + disclosure gate).</summary>
public sealed class PipelineHttpClientFactory(IHttpMessageHandlerFactory handlers, string name) : Google.Apis.Http.HttpClientFactory
{
    protected override HttpMessageHandler CreateHandler(CreateHttpClientArgs args) => handlers.CreateHandler(name);
}
