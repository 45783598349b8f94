using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Cafetalk.Integrations.Http;

/// <summary>How reading a request body ended.</summary>
public enum BodyReadOutcome
{
    Read,
    /// <summary>More than the route's limit arrived (or was announced): answer 413.</summary>
    TooLarge,
    /// <summary>The body did not arrive within <see cref="RequestBody.ReadTimeout"/>, or the server cut a slow sender off: answer 408.</summary>
    TooSlow,
    /// <summary>The server refused the body for another reason (cut short, malformed chunking): the caller's fault, answer 400.</summary>
    Unreadable,
}

/// <summary>A request body, read whole; <see cref="Bytes"/> is empty unless <see cref="Outcome"/> is <see cref="BodyReadOutcome.Read"/>.</summary>
public sealed record BodyRead(BodyReadOutcome Outcome, ReadOnlyMemory<byte> Bytes)
{
    /// <summary>The status, problem type and detail a route answers when the body was not read whole; null when it was.</summary>
    public (int Status, string Type, string Detail)? Refusal(int maxBytes) => Outcome switch
    {
        BodyReadOutcome.TooLarge => (StatusCodes.Status413PayloadTooLarge, "too-large", $"The body is over {maxBytes} bytes."),
        BodyReadOutcome.TooSlow => (StatusCodes.Status408RequestTimeout, "too-slow", "The body did not arrive in time."),
        BodyReadOutcome.Unreadable => (StatusCodes.Status400BadRequest, "bad-body", "The body could not be read."),
        _ => null,
    };
}

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
