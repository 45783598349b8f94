using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Mime;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cafetalk.Integrations.Disclosure;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Zoom;

/// <summary>A meeting as Zoom reports it; only the fields the converger compares or stores.</summary>
public sealed record ZoomMeeting(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("uuid")] string? Uuid,
    [property: JsonPropertyName("host_id")] string? HostId,
    [property: JsonPropertyName("start_time")] DateTimeOffset? StartTime,
    [property: JsonPropertyName("duration")] int Duration,
    [property: JsonPropertyName("timezone")] string? Timezone,
    [property: JsonPropertyName("agenda")] string? Agenda,
    [property: JsonPropertyName("join_url")] string? JoinUrl = null)
{
    /// <summary>The join URL is a personal value: never in a log line, so not in the record's text either.</summary>
    public override string ToString() => $"ZoomMeeting {{ Id = {Id}, HostId = {HostId}, StartTime = {StartTime:O}, Duration = {Duration} }}";
}

/// <summary>
/// The Zoom meetings API calls we make. Authentication, retries, Retry-After, timeouts and the account-wide rate
/// limit live in the HttpClient's pipeline (see <see cref="ZoomServiceCollectionExtensions"/>); this class maps
/// answers to results and exceptions.
/// </summary>
public sealed class ZoomClient(HttpClient http, IOptions<ZoomOptions> options, TimeProvider time)
{
    /// <summary>Zoom marks the per-host daily create/update limit with this value of <c>X-RateLimit-Type</c> (when it sends the header at all).</summary>
    public const string DailyLimitType = "Daily-limit";
    public const string RateLimitTypeHeader = "X-RateLimit-Type";

    /// <summary>The words of Zoom's daily-limit 429 message ("You have exceeded the daily rate limit (100) of Meeting Create/Update ...").</summary>
    public const string DailyLimitMessage = "daily rate limit";

    private const int ListPageSize = 300;

    public async Task<ZoomMeeting> CreateMeetingAsync(string hostId, ZoomMeetingRequest meeting, DisclosureContext disclosure, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v2/users/{Uri.EscapeDataString(hostId)}/meetings") { Content = Body(meeting) }.DeclareDisclosure(disclosure);
        using var response = await http.SendAsync(request, cancellationToken);
        await ThrowOnErrorAsync(response, "create meeting", hostId, cancellationToken);
        return await ReadAsync<ZoomMeeting>(response, "create meeting", cancellationToken);
    }

    /// <summary>The meeting, or null when Zoom no longer has it.</summary>
    public Task<ZoomMeeting?> GetMeetingAsync(long meetingId, DisclosureContext disclosure, CancellationToken cancellationToken = default) =>
        GetMeetingAsAsync<ZoomMeeting>(meetingId, disclosure, cancellationToken);

    /// <summary>
    /// A fresh <c>start_url</c> of the meeting (Zoom's expire), or null when Zoom no longer has it. A secret carrying the
    /// host's token: returned to the caller only, never stored or logged.
    /// </summary>
    public async Task<string?> GetStartUrlAsync(long meetingId, DisclosureContext disclosure, CancellationToken cancellationToken = default) =>
        (await GetMeetingAsAsync<StartLink>(meetingId, disclosure, cancellationToken))?.StartUrl;

    /// <summary><c>GET /meetings/{id}</c> read as <typeparamref name="T"/> (only the fields a caller needs), or null on 404.</summary>
    private async Task<T?> GetMeetingAsAsync<T>(long meetingId, DisclosureContext disclosure, CancellationToken cancellationToken)
        where T : class
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v2/meetings/{meetingId}").DeclareDisclosure(disclosure);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await ThrowOnErrorAsync(response, "get meeting", null, cancellationToken);
        return await ReadAsync<T>(response, "get meeting", cancellationToken);
    }

    /// <summary>Updates a meeting; false when Zoom no longer has it.</summary>
    public async Task<bool> UpdateMeetingAsync(string hostId, long meetingId, ZoomMeetingRequest meeting, DisclosureContext disclosure, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"v2/meetings/{meetingId}") { Content = Body(meeting) }.DeclareDisclosure(disclosure);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await ThrowOnErrorAsync(response, "update meeting", hostId, cancellationToken);
        return true;
    }

    /// <summary>Deletes a meeting without mailing a cancellation; false when it was already gone (which counts as done).</summary>
    public async Task<bool> DeleteMeetingAsync(long meetingId, DisclosureContext disclosure, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"v2/meetings/{meetingId}?schedule_for_reminder=false&cancel_meeting_reminder=false").DeclareDisclosure(disclosure);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            return false;
        }

        await ThrowOnErrorAsync(response, "delete meeting", null, cancellationToken);
        return true;
    }

    /// <summary>The host's upcoming meetings, every page.</summary>
    public async IAsyncEnumerable<ZoomMeeting> ListUpcomingMeetingsAsync(string hostId, DisclosureContext disclosure, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? pageToken = null;
        do
        {
            var uri = $"v2/users/{Uri.EscapeDataString(hostId)}/meetings?type=upcoming&page_size={ListPageSize}"
                + (pageToken is null ? string.Empty : $"&next_page_token={Uri.EscapeDataString(pageToken)}");
            using var request = new HttpRequestMessage(HttpMethod.Get, uri).DeclareDisclosure(disclosure);
            using var response = await http.SendAsync(request, cancellationToken);
            await ThrowOnErrorAsync(response, "list meetings", null, cancellationToken);
            var page = await ReadAsync<MeetingPage>(response, "list meetings", cancellationToken);
            foreach (var meeting in page.Meetings ?? [])
            {
                yield return meeting;
            }

            pageToken = string.IsNullOrEmpty(page.NextPageToken) ? null : page.NextPageToken;
        }
        while (pageToken is not null);
    }

    /// <summary>
    /// True when a 429 is the per-host daily limit rather than the per-second one: by <c>X-RateLimit-Type</c>, or by
    /// the body alone, since Zoom's daily-limit answers are seen without the header. The body is buffered, so callers
    /// can still read it.
    /// </summary>
    public static async ValueTask<bool> IsDailyLimitAsync(HttpResponseMessage response, CancellationToken cancellationToken = default)
    {
        if (response.StatusCode != HttpStatusCode.TooManyRequests)
        {
            return false;
        }

        if (response.Headers.TryGetValues(RateLimitTypeHeader, out var values)
            && values.Any(v => string.Equals(v, DailyLimitType, StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        try
        {
            // As text from the buffer: reading it as a stream would dispose the stream the caller reads next.
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            var error = JsonSerializer.Deserialize<ErrorBody>(await response.Content.ReadAsStringAsync(cancellationToken));
            return error is { Code: 429, Message: { } message } && message.Contains(DailyLimitMessage, StringComparison.OrdinalIgnoreCase);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or HttpRequestException)
        {
            return false;
        }
    }

    private static ByteArrayContent Body(ZoomMeetingRequest meeting)
    {
        // Bytes, not a stream: the same body is re-sent on retry and read by the disclosure gate.
        var content = new ByteArrayContent(ZoomMeetingPayload.Serialize(meeting));
        content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypeNames.Application.Json);
        return content;
    }

    private async Task ThrowOnErrorAsync(HttpResponseMessage response, string operation, string? hostId, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        if (hostId is not null && await IsDailyLimitAsync(response, cancellationToken))
        {
            throw new ZoomDailyLimitReachedException(hostId, ZoomDailyLimit.NextResetUtc(time.GetUtcNow(), options.Value.DailyLimitResetMargin));
        }

        throw new ZoomApiException(operation, response.StatusCode, await ReadErrorCodeAsync(response, cancellationToken));
    }

    private static async Task<int?> ReadErrorCodeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var error = await response.Content.ReadFromJsonAsync<ErrorBody>(cancellationToken);
            return error?.Code;
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            return null;
        }
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(cancellationToken)
                ?? throw new ZoomApiException(operation, response.StatusCode, null);
        }
        catch (JsonException)
        {
            throw new ZoomApiException(operation, response.StatusCode, null);
        }
    }

    private sealed record StartLink([property: JsonPropertyName("start_url")] string? StartUrl)
    {
        public override string ToString() => "StartLink { StartUrl = [secret] }";
    }

    private sealed record MeetingPage(
        [property: JsonPropertyName("meetings")] List<ZoomMeeting>? Meetings,
        [property: JsonPropertyName("next_page_token")] string? NextPageToken);

    private sealed record ErrorBody(
        [property: JsonPropertyName("code")] int? Code,
        [property: JsonPropertyName("message")] string? Message = null);
}
