using System.Globalization;
using System.Net;
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
