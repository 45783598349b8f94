namespace Cafetalk.Integrations.Vimeo;

/// <summary>
/// The next <c>length</c> bytes of a download, read straight through as one tus PATCH body, so a chunk never
/// sits in a buffer of its own. It ends the slice, never the download: disposing it leaves the download open.
/// </summary>
public sealed class DownloadSliceStream(Stream download, long length) : Stream
{
    private readonly long _length = length;
    private long _remaining = length;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position { get => _length - _remaining; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_remaining == 0 || buffer.IsEmpty)
        {
            return 0;
        }

        return Took(download.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_remaining == 0 || buffer.IsEmpty)
        {
            return 0;
        }

        return Took(await download.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken));
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int Took(int read)
    {
        // A short download must fail the PATCH, not send Vimeo fewer bytes than its Content-Length promised.
        _remaining -= read > 0 ? read : throw new IOException("the download ended before the bytes it announced");
        return read;
    }
}
