using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Cafetalk.Integrations.Vimeo;

/// <summary>
/// The tus 1.0.0 calls on a video's <c>upload.upload_link</c> (Vimeo's resumable upload): HEAD for the offset Vimeo
/// holds, PATCH to append a chunk there. The link is the credential, so this client carries no Vimeo token; it has no
/// retry of its own either: a failed chunk is resumed from the offset HEAD reports.
/// </summary>
public sealed class VimeoTusClient(HttpClient http)
{
    public const string TusVersion = "1.0.0";
    public const string OffsetMediaType = "application/offset+octet-stream";

    /// <summary>How many bytes of the upload Vimeo already holds.</summary>
    public async Task<long> OffsetAsync(Uri uploadLink, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, RequireSafe(uploadLink));
        request.Headers.Add("Tus-Resumable", TusVersion);
        using var response = await http.SendAsync(request, cancellationToken);
        ThrowOnError(response, "upload offset");
        return OffsetOf(response) ?? throw new VimeoApiException("upload offset", response.StatusCode, null);
    }

    /// <summary>Appends <paramref name="chunk"/> at <paramref name="offset"/>, streamed as it is read; returns the offset Vimeo reports after it.</summary>
    public async Task<long> AppendAsync(Uri uploadLink, long offset, DownloadSliceStream chunk, CancellationToken cancellationToken = default)
    {
        using var content = new StreamContent(chunk);
        content.Headers.ContentType = new MediaTypeHeaderValue(OffsetMediaType);
        content.Headers.ContentLength = chunk.Length;
        using var request = new HttpRequestMessage(HttpMethod.Patch, RequireSafe(uploadLink)) { Content = content };
        request.Headers.Add("Tus-Resumable", TusVersion);
        request.Headers.Add("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            throw new VimeoUploadOffsetException(offset);
        }

        ThrowOnError(response, "upload chunk");
        return OffsetOf(response) ?? throw new VimeoApiException("upload chunk", response.StatusCode, null);
    }

    /// <summary>A recording goes only over https, or plain http to this machine (the Sandbox's simulators).</summary>
    public static bool IsSafeTarget(Uri uri) =>
        uri.IsAbsoluteUri && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback));

    private static Uri RequireSafe(Uri uri) =>
        IsSafeTarget(uri) ? uri : throw new VimeoApiException("upload link is neither https nor loopback", HttpStatusCode.BadRequest, null);

    private static long? OffsetOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Upload-Offset", out var values)
        && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var offset) ? offset : null;

    private static void ThrowOnError(HttpResponseMessage response, string operation)
    {
        if (!response.IsSuccessStatusCode)
        {
            // The link is a credential: only the status goes into the exception.
            throw new VimeoApiException(operation, response.StatusCode, null);
        }
    }
}

/// <summary>Vimeo holds a different offset than the chunk was sent at (409): the upload resumes from a fresh HEAD.</summary>
public sealed class VimeoUploadOffsetException(long sentAt)
    : Exception($"Vimeo refused a chunk at offset {sentAt}: it holds a different offset.")
{
    public long SentAt { get; } = sentAt;
}
