using System.Buffers;
using Cafetalk.Integrations.Http;
using Microsoft.AspNetCore.Http;

namespace Cafetalk.Integrations.Web;

/// <summary>
/// Every HTTP function reads its body through here: never more than the route's limit (one byte over is enough to
/// know, whatever Content-Length said or did not say) and never for longer than <see cref="ReadTimeout"/>, so a large
/// or trickled body costs a bounded amount of memory and time whatever the front end in front of us enforces.
/// </summary>
public static class RequestBody
{
    /// <summary>A genuine sender (Zoom, a mail client, the Cafetalk site, a browser) sends these bodies in well under a second.</summary>
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);

    public static async Task<BodyRead> ReadAsync(HttpRequest request, int maxBytes, TimeProvider time, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return new BodyRead(BodyReadOutcome.TooLarge, ReadOnlyMemory<byte>.Empty);
        }

        using var deadline = new CancellationTokenSource(ReadTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, linked.Token)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return new BodyRead(BodyReadOutcome.TooLarge, ReadOnlyMemory<byte>.Empty);
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new BodyRead(BodyReadOutcome.TooSlow, ReadOnlyMemory<byte>.Empty);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode is StatusCodes.Status408RequestTimeout or StatusCodes.Status413PayloadTooLarge)
        {
            // The server's own limits (minimum data rate, maximum body size) said it first.
            return new BodyRead(ex.StatusCode == StatusCodes.Status408RequestTimeout ? BodyReadOutcome.TooSlow : BodyReadOutcome.TooLarge, ReadOnlyMemory<byte>.Empty);
        }
        catch (BadHttpRequestException)
        {
            return new BodyRead(BodyReadOutcome.Unreadable, ReadOnlyMemory<byte>.Empty);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return new BodyRead(BodyReadOutcome.Read, buffer.ToArray());
    }
}
