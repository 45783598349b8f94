using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Mime;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cafetalk.Integrations.Disclosure;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Vimeo;

/// <summary>A video or folder as Vimeo reports it; only the fields we read. Its id is the last segment of <c>uri</c>.</summary>
public sealed record VimeoItem(
    [property: JsonPropertyName("uri")] string? Uri,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("upload")] VimeoUploadState? Upload = null,
    [property: JsonPropertyName("transcode")] VimeoTranscodeState? Transcode = null)
{
    public string? Id => Uri is { Length: > 0 } uri ? uri[(uri.LastIndexOf('/') + 1)..] : null;

    /// <summary>Vimeo has every byte of the file: Zoom's copy may go.</summary>
    public bool UploadComplete => Upload?.Status == "complete";

    /// <summary>Vimeo gave up on the upload or on transcoding it; it must be made again.</summary>
    public bool UploadFailed => Upload?.Status == "error" || Transcode?.Status == "error";

    /// <summary>Every byte arrived and Vimeo transcoded them: only now is Vimeo's copy one a student can watch.</summary>
    public bool Playable => UploadComplete && Transcode?.Status == "complete";
}

/// <summary>Where transcoding stands: <c>in_progress</c>, <c>complete</c> or <c>error</c>.</summary>
public sealed record VimeoTranscodeState([property: JsonPropertyName("status")] string? Status);

/// <summary>Where an upload stands: <c>in_progress</c>, <c>complete</c> or <c>error</c>, and the tus link that takes its bytes.</summary>
public sealed record VimeoUploadState(
    [property: JsonPropertyName("status")] string? Status,
    [property: JsonPropertyName("upload_link")] string? UploadLink = null);

/// <summary>One page of a Vimeo list: its items and whether <c>paging.next</c> names another page.</summary>
public sealed record VimeoPage(IReadOnlyList<VimeoItem> Items, bool HasNext);

/// <summary>The body of a resumable (tus) upload: the only fields Vimeo ever receives from us for a video.</summary>
public sealed record VimeoTusUpload(
    [property: JsonPropertyName("upload")] VimeoTusUploadSize Upload,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("privacy")] VimeoPrivacy Privacy)
{
    /// <summary>A neutral title: it must say nothing about the lecturer or the student.</summary>
    public const string NeutralName = "Cafetalk lesson recording";

    /// <summary>Every JSON path the body holds, for the ledger's data items.</summary>
    public static readonly IReadOnlyList<string> FieldNames =
        ["upload.approach", "upload.size", "name", "description", "privacy.view", "privacy.embed", "privacy.download", "privacy.comments"];

    /// <summary>Nobody can watch it on vimeo.com, it plays only embedded on the allowed domains, no download, no comments.</summary>
    public static VimeoTusUpload For(long size, string bookingReference) => new(
        new VimeoTusUploadSize("tus", size.ToString(CultureInfo.InvariantCulture)),
        NeutralName,
        bookingReference,
        new VimeoPrivacy("disable", "whitelist", Download: false, "nobody"));
}

/// <summary>Vimeo's OpenAPI declares <c>upload.size</c> a string holding the byte count.</summary>
public sealed record VimeoTusUploadSize(
    [property: JsonPropertyName("approach")] string Approach,
    [property: JsonPropertyName("size")] string Size);

public sealed record VimeoPrivacy(
    [property: JsonPropertyName("view")] string View,
    [property: JsonPropertyName("embed")] string Embed,
    [property: JsonPropertyName("download")] bool Download,
    [property: JsonPropertyName("comments")] string Comments);

/// <summary>
/// The Vimeo API calls we make. Authentication, retries, X-RateLimit-Reset waits and timeouts live in the
/// HttpClient's pipeline (see <see cref="VimeoServiceCollectionExtensions"/>); this class maps answers to results
/// and exceptions. A 429 that reaches it resets too late to wait for: it becomes <see cref="VimeoRateLimitedException"/>.
/// </summary>
public sealed class VimeoClient(HttpClient http, TimeProvider time)
{
    public const string RateLimitResetHeader = "X-RateLimit-Reset";

    /// <summary>Vimeo's folder list takes at most this many per page (OpenAPI: per_page "up to a maximum of 100").</summary>
    public const int MaxPerPage = 100;

    /// <summary>Creates the video with a tus upload of <c>upload.size</c> bytes; the answer's <c>upload.upload_link</c> takes them.</summary>
    public async Task<VimeoItem> CreateTusUploadAsync(VimeoTusUpload upload, DisclosureContext disclosure, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "me/videos") { Content = Json(upload) }.DeclareDisclosure(disclosure);
        return await SendForItemAsync(request, "create upload", cancellationToken);
    }

    /// <summary>The scopes the configured token was granted (GET /oauth/verify answers them space-separated).</summary>
    public async Task<IReadOnlySet<string>> GrantedScopesAsync(DisclosureContext disclosure, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "oauth/verify").DeclareDisclosure(disclosure);
        using var response = await http.SendAsync(request, cancellationToken);
        await ThrowOnErrorAsync(response, "verify token", cancellationToken);
        var verified = await ReadAsync<VerifiedToken>(response, "verify token", cancellationToken);
        return (verified.Scope ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The video's upload state; null when Vimeo no longer has it.</summary>
    public async Task<VimeoItem?> GetVideoAsync(string videoId, DisclosureContext disclosure, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"videos/{Uri.EscapeDataString(videoId)}").DeclareDisclosure(disclosure);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            return null;
        }

        await ThrowOnErrorAsync(response, "get video", cancellationToken);
        return await ReadAsync<VimeoItem>(response, "get video", cancellationToken);
    }

    /// <summary>Our videos whose description is exactly <paramref name="reference"/> (Vimeo's search is fuzzy).</summary>
    public async Task<IReadOnlyList<VimeoItem>> FindVideosAsync(string reference, DisclosureContext disclosure, CancellationToken cancellationToken = default)
    {
        var page = await PageAsync($"me/videos?query={Uri.EscapeDataString(reference)}", "find video", disclosure, cancellationToken);
        return [.. page.Items.Where(i => i.Description == reference)];
    }

    /// <summary>One page of our folders: GET /me/projects has no name filter, so a folder is found by reading pages.</summary>
    public Task<VimeoPage> ListFoldersAsync(int page, DisclosureContext disclosure, CancellationToken cancellationToken = default) =>
        PageAsync($"me/projects?page={page.ToString(CultureInfo.InvariantCulture)}&per_page={MaxPerPage.ToString(CultureInfo.InvariantCulture)}", "list folders", disclosure, cancellationToken);

    public async Task<VimeoItem> CreateFolderAsync(string name, DisclosureContext disclosure, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "me/projects") { Content = Json(new { name }) }.DeclareDisclosure(disclosure);
        return await SendForItemAsync(request, "create folder", cancellationToken);
    }

    /// <summary>Lets the player be embedded on <paramref name="domain"/> (the video's <c>privacy.embed</c> is <c>whitelist</c>).</summary>
    public Task AllowEmbedDomainAsync(string videoId, string domain, DisclosureContext disclosure, CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Put, $"videos/{Uri.EscapeDataString(videoId)}/privacy/domains/{Uri.EscapeDataString(domain)}", "allow embed domain", disclosure, cancellationToken);

    public Task MoveToFolderAsync(string folderId, string videoId, DisclosureContext disclosure, CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Put, $"me/projects/{Uri.EscapeDataString(folderId)}/videos/{Uri.EscapeDataString(videoId)}", "move to folder", disclosure, cancellationToken);

    /// <summary>Deletes a video; false when it was already gone (which counts as done).</summary>
    public Task<bool> DeleteVideoAsync(string videoId, DisclosureContext disclosure, CancellationToken cancellationToken = default) =>
        DeleteAsync($"videos/{Uri.EscapeDataString(videoId)}", "delete video", disclosure, cancellationToken);

    /// <summary>Deletes a folder but not its videos (they are deleted one by one, each recorded); false when it was already gone.</summary>
    public Task<bool> DeleteFolderAsync(string folderId, DisclosureContext disclosure, CancellationToken cancellationToken = default) =>
        DeleteAsync($"me/projects/{Uri.EscapeDataString(folderId)}?should_delete_clips=false", "delete folder", disclosure, cancellationToken);

    /// <summary>When Vimeo's limit resets: <c>X-RateLimit-Reset</c> as an ISO 8601 time (Vimeo's form) or Unix seconds.</summary>
    public static DateTimeOffset? RateLimitResetOf(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues(RateLimitResetHeader, out var values) || values.FirstOrDefault() is not { Length: > 0 } value)
        {
            return null;
        }

        if (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds))
        {
            return DateTimeOffset.FromUnixTimeSeconds(seconds);
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at.ToUniversalTime() : null;
    }

    private async Task<VimeoPage> PageAsync(string uri, string operation, DisclosureContext disclosure, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri).DeclareDisclosure(disclosure);
        using var response = await http.SendAsync(request, cancellationToken);
        await ThrowOnErrorAsync(response, operation, cancellationToken);
        var page = await ReadAsync<ItemPage>(response, operation, cancellationToken);
        return new VimeoPage(page.Data ?? [], page.Paging?.Next is { Length: > 0 });
    }

    private async Task<VimeoItem> SendForItemAsync(HttpRequestMessage request, string operation, CancellationToken cancellationToken)
    {
        using var response = await http.SendAsync(request, cancellationToken);
        await ThrowOnErrorAsync(response, operation, cancellationToken);
        var item = await ReadAsync<VimeoItem>(response, operation, cancellationToken);
        return item.Id is not null ? item : throw new VimeoApiException(operation, response.StatusCode, null);
    }

    private async Task SendNoContentAsync(HttpMethod method, string uri, string operation, DisclosureContext disclosure, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, uri).DeclareDisclosure(disclosure);
        using var response = await http.SendAsync(request, cancellationToken);
        await ThrowOnErrorAsync(response, operation, cancellationToken);
    }

    private async Task<bool> DeleteAsync(string uri, string operation, DisclosureContext disclosure, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, uri).DeclareDisclosure(disclosure);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            return false;
        }

        await ThrowOnErrorAsync(response, operation, cancellationToken);
        return true;
    }

    private static ByteArrayContent Json<T>(T body)
    {
        // Bytes, not a stream: the same body is re-sent on retry and read by the disclosure gate.
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body));
        content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypeNames.Application.Json);
        return content;
    }

    private async Task ThrowOnErrorAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            // Without a reset time, a minute is Vimeo's shortest window.
            throw new VimeoRateLimitedException(operation, RateLimitResetOf(response) ?? time.GetUtcNow().AddMinutes(1));
        }

        throw new VimeoApiException(operation, response.StatusCode, await ReadErrorCodeAsync(response, cancellationToken));
    }

    private static async Task<int?> ReadErrorCodeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return (await response.Content.ReadFromJsonAsync<ErrorBody>(cancellationToken))?.ErrorCode;
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
                ?? throw new VimeoApiException(operation, response.StatusCode, null);
        }
        catch (JsonException)
        {
            throw new VimeoApiException(operation, response.StatusCode, null);
        }
    }

    private sealed record ItemPage(
        [property: JsonPropertyName("data")] List<VimeoItem>? Data,
        [property: JsonPropertyName("paging")] Paging? Paging);

    private sealed record Paging([property: JsonPropertyName("next")] string? Next);

    private sealed record VerifiedToken([property: JsonPropertyName("scope")] string? Scope);

    private sealed record ErrorBody([property: JsonPropertyName("error_code")] int? ErrorCode);
}

/// <summary>Puts Cafetalk's access token and the API version on every Vimeo call.</summary>
public sealed class VimeoAuthenticationHandler(IOptions<VimeoOptions> options) : DelegatingHandler
{
    /// <summary>Pins the API version, so a Vimeo default change cannot alter a response we parse.</summary>
    public const string AcceptVersion3_4 = "application/vnd.vimeo.*+json;version=3.4";

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.Value.AccessToken);
        request.Headers.Accept.Clear();
        request.Headers.Accept.ParseAdd(AcceptVersion3_4);
        return base.SendAsync(request, cancellationToken);
    }
}
