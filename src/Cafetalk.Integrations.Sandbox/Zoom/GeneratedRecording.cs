using System.Buffers;
using System.Security.Cryptography;

namespace Cafetalk.Integrations.Sandbox.Zoom;

/// <summary>
/// A recording file's bytes made on the fly from a seed (xorshift64), so a 200 MB file is served, compared and hashed
/// without ever being held in memory.
/// </summary>
public static class GeneratedRecording
{
    private const int BufferBytes = 64 * 1024;

    /// <summary>Writes <paramref name="size"/> bytes of the file to <paramref name="output"/>, stopping after <paramref name="stopAfter"/> when given.</summary>
    public static async Task WriteAsync(ulong seed, long size, Stream output, long? stopAfter, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            var state = seed | 1;
            var limit = Math.Min(size, stopAfter ?? size);
            for (long written = 0; written < limit;)
            {
                var count = (int)Math.Min(BufferBytes, limit - written);
                Fill(ref state, buffer.AsSpan(0, count));
                await output.WriteAsync(buffer.AsMemory(0, count), cancellationToken);
                written += count;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The SHA-256 of the whole file, hex, for comparing with what Vimeo received.</summary>
    public static string Sha256(ulong seed, long size)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            var state = seed | 1;
            for (long done = 0; done < size;)
            {
                var count = (int)Math.Min(BufferBytes, size - done);
                Fill(ref state, buffer.AsSpan(0, count));
                hash.AppendData(buffer, 0, count);
                done += count;
            }

            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // Whole 8-byte words then a tail: the sequence depends only on the seed and the position, as the buffer size is fixed.
    private static void Fill(ref ulong state, Span<byte> span)
    {
        var i = 0;
        for (; i + 8 <= span.Length; i += 8)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            BitConverter.TryWriteBytes(span[i..], state);
        }

        if (i < span.Length)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            Span<byte> last = stackalloc byte[8];
            BitConverter.TryWriteBytes(last, state);
            last[..(span.Length - i)].CopyTo(span[i..]);
        }
    }
}
