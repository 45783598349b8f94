using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cafetalk.Integrations.Disclosure;

namespace Cafetalk.Integrations.Zoom;

/// <summary>One file of a cloud recording as Zoom lists it; only what the recording pipeline reads.</summary>
public sealed record ZoomRecordingFile(
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("file_type")] string? FileType,
    [property: JsonPropertyName("recording_type")] string? RecordingType,
    [property: JsonPropertyName("download_url")] string? DownloadUrl);

/// <summary>An open recording download: the file's bytes as they arrive, and its length (Content-Length).</summary>
public sealed class ZoomRecordingStream(HttpResponseMessage response, Stream content, long length) : IAsyncDisposable
{
    public Stream Content { get; } = content;

    public long Length { get; } = length;

    public async ValueTask DisposeAsync()
    {
        await Content.DisposeAsync();
        response.Dispose();
    }
}

/// <summary>Zoom refused or broke off a recording download; <see cref="TokenRefused"/> when the token was not accepted.</summary>
public sealed class ZoomDownloadException(string reason, HttpStatusCode? status)
    : Exception($"Zoom recording download failed: {reason}{(status is null ? string.Empty : $" (HTTP {(int)status})")}.")
{
    public HttpStatusCode? Status { get; } = status;

    public bool TokenRefused => Status == HttpStatusCode.Unauthorized;
}

/// <summary>
/// Downloads a recording file with the download token in the Authorization header, the only place Zoom accepts it
/// since 2023-02-14 (a token in the URL fails with code 124). Redirects are followed here, not by HttpClient, so the
/// token goes to Zoom's own host only, never to the signed file link it redirects to, and every hop must be https
/// (or plain http to this machine, the Sandbox). The body is streamed: nothing is buffered.
/// </summary>
public sealed class ZoomRecordingDownloader(HttpClient http)
{
    public const string HttpClientName = "zoom-recording-download";
    private const int MaxRedirects = 5;

    public async Task<ZoomRecordingStream> OpenAsync(Uri downloadUrl, string downloadToken, CancellationToken cancellationToken = default)
    {
        var target = downloadUrl;
        for (var hop = 0; hop <= MaxRedirects; hop++)
        {
            if (!IsSafeTarget(target))
            {
                throw new ZoomDownloadException("the link is neither https nor loopback", null);
            }

            using var request = new HttpRequestMessage(HttpMethod.Get, target);
            if (SameOrigin(target, downloadUrl))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", downloadToken);
            }

            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                response.Dispose();
                target = location.IsAbsoluteUri ? location : new Uri(target, location);
                continue;
            }

            if (!response.IsSuccessStatusCode)
            {
                var status = response.StatusCode;
                response.Dispose();
                throw new ZoomDownloadException("the file was not served", status);
            }

            if (response.Content.Headers.ContentLength is not { } length)
            {
                response.Dispose();
                throw new ZoomDownloadException("the file has no Content-Length", response.StatusCode);
            }

            return new ZoomRecordingStream(response, await response.Content.ReadAsStreamAsync(cancellationToken), length);
        }

        throw new ZoomDownloadException("too many redirects", null);
    }

    /// <summary>https anywhere, or plain http to this machine only.</summary>
    public static bool IsSafeTarget(Uri uri) =>
        uri.IsAbsoluteUri && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback));

    private static bool SameOrigin(Uri a, Uri b) =>
        Uri.Compare(a, b, UriComponents.SchemeAndServer, UriFormat.SafeUnescaped, StringComparison.OrdinalIgnoreCase) == 0;
}

/// <summary>A meeting's cloud recording with a fresh <c>download_access_token</c> (a secret: never logged).</summary>
public sealed record ZoomRecordingDownload(
    [property: JsonPropertyName("recording_files")] IReadOnlyList<ZoomRecordingFile>? Files,
    [property: JsonPropertyName("download_access_token")] string? DownloadAccessToken);

/// <summary>
/// The cloud-recording calls we make: a fresh download token when the webhook's has run out, and deleting Zoom's
/// copy. Same pipeline as <see cref="ZoomClient"/> (token, retries, rate limit, disclosure gate innermost).
/// </summary>
public sealed class ZoomRecordingsClient(HttpClient http)
{
    /// <summary>Zoom's <c>download_token</c> in a <c>recording.completed</c> webhook is valid for 24 hours.</summary>
    public static readonly TimeSpan WebhookDownloadTokenLifetime = TimeSpan.FromHours(24);

    /// <summary>The recording with a download token valid for <paramref name="tokenLifetime"/>; null when Zoom has no recording.</summary>
    public async Task<ZoomRecordingDownload?> GetDownloadAsync(string meeting, TimeSpan tokenLifetime, DisclosureContext disclosure, CancellationToken cancellationToken = default)
    {
        var ttl = Math.Clamp((int)tokenLifetime.TotalSeconds, 1, 604_800).ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{RecordingsPath(meeting)}?include_fields=download_access_token&ttl={ttl}").DeclareDisclosure(disclosure);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        ThrowOnError(response, "get recording");
        try
        {
            return await response.Content.ReadFromJsonAsync<ZoomRecordingDownload>(cancellationToken)
                ?? throw new ZoomApiException("get recording", response.StatusCode, null);
        }
        catch (JsonException)
        {
            throw new ZoomApiException("get recording", response.StatusCode, null);
        }
    }

    /// <summary>Deletes every file of the meeting's cloud recording for good; false when Zoom had none (which counts as done).</summary>
    public async Task<bool> DeleteRecordingAsync(string meeting, DisclosureContext disclosure, CancellationToken cancellationToken = default)
    {
        // "delete", not "trash": a recording nobody may keep must not wait 30 days in Zoom's trash.
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"{RecordingsPath(meeting)}?action=delete").DeclareDisclosure(disclosure);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            return false;
        }

        ThrowOnError(response, "delete recording");
        return true;
    }

    /// <summary>A meeting UUID that starts with '/' or holds '//' must be encoded twice (Zoom's rule); others once.</summary>
    internal static string RecordingsPath(string meeting)
    {
        var encoded = Uri.EscapeDataString(meeting);
        if (meeting.StartsWith('/') || meeting.Contains("//", StringComparison.Ordinal))
        {
            encoded = Uri.EscapeDataString(encoded);
        }

        return $"v2/meetings/{encoded}/recordings";
    }

    private static void ThrowOnError(HttpResponseMessage response, string operation)
    {
        if (!response.IsSuccessStatusCode)
        {
            // Zoom's error text can quote the host's email: only the status goes into the exception.
            throw new ZoomApiException(operation, response.StatusCode, null);
        }
    }
}
