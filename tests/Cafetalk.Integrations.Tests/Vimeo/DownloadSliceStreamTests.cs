using System.Net;
using Cafetalk.Integrations.Vimeo;

namespace Cafetalk.Integrations.Tests.Vimeo;

public sealed class DownloadSliceStreamTests
{
    private static readonly Uri UploadLink = new("https://files.tus.vimeo.com/files/vimeo-video-1");

    [Fact]
    public async Task AppendAsync_TwoSlicesOfOneDownload_EachPatchCarriesItsOwnBytesAndLength()
    {
        var file = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray();
        using var download = new MemoryStream(file);
        var wire = new PatchRecorder();
        using var http = new HttpClient(wire);
        var tus = new VimeoTusClient(http);

        var first = await tus.AppendAsync(UploadLink, 0, new DownloadSliceStream(download, 60_000));
        var second = await tus.AppendAsync(UploadLink, first, new DownloadSliceStream(download, 40_000));

        Assert.Equal((60_000L, 100_000L), (first, second));
        Assert.Equal([60_000L, 40_000L], wire.ContentLengths);
        Assert.Equal(file[..60_000], wire.Bodies[0]);
        Assert.Equal(file[60_000..], wire.Bodies[1]);
    }

    [Fact]
    public async Task AppendAsync_DownloadEndsInsideTheSlice_FailsInsteadOfSendingFewerBytes()
    {
        using var download = new MemoryStream(new byte[1_000]);
        var wire = new PatchRecorder();
        using var http = new HttpClient(wire);

        var error = await Record.ExceptionAsync(() => new VimeoTusClient(http).AppendAsync(UploadLink, 0, new DownloadSliceStream(download, 5_000)));

        Assert.True(error is IOException or HttpRequestException, $"unexpected {error?.GetType().Name}");
        Assert.Empty(wire.Bodies);
    }

    /// <summary>Reads each PATCH body off the wire and answers as tus does, with the new offset.</summary>
    private sealed class PatchRecorder : HttpMessageHandler
    {
        public List<byte[]> Bodies { get; } = [];

        public List<long?> ContentLengths { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            ContentLengths.Add(request.Content!.Headers.ContentLength);
            var body = await request.Content.ReadAsByteArrayAsync(cancellationToken);
            Bodies.Add(body);
            var offset = long.Parse(request.Headers.GetValues("Upload-Offset").Single(), System.Globalization.CultureInfo.InvariantCulture);
            var response = new HttpResponseMessage(HttpStatusCode.NoContent);
            response.Headers.Add("Upload-Offset", (offset + body.Length).ToString(System.Globalization.CultureInfo.InvariantCulture));
            return response;
        }
    }
}
