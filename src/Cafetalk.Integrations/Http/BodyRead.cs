namespace Cafetalk.Integrations.Http;

/// <summary>How reading a request body ended.</summary>
public enum BodyReadOutcome
{
    Read,
    /// <summary>More than the route's limit arrived (or was announced): answer 413.</summary>
    TooLarge,
    /// <summary>The body did not arrive in time, or the server cut a slow sender off: answer 408.</summary>
    TooSlow,
    /// <summary>The server refused the body for another reason (cut short, malformed chunking): the caller's fault, answer 400.</summary>
    Unreadable,
}

/// <summary>A request body, read whole by the HTTP adapter; <see cref="Bytes"/> is empty unless <see cref="Outcome"/> is <see cref="BodyReadOutcome.Read"/>.</summary>
public sealed record BodyRead(BodyReadOutcome Outcome, ReadOnlyMemory<byte> Bytes)
{
    /// <summary>A body that arrived whole.</summary>
    public static BodyRead Of(ReadOnlySpan<byte> bytes) => new(BodyReadOutcome.Read, bytes.ToArray());

    /// <summary>The status, problem type and detail a route answers when the body was not read whole; null when it was.</summary>
    public (int Status, string Type, string Detail)? Refusal(int maxBytes) => Outcome switch
    {
        BodyReadOutcome.TooLarge => (413, "too-large", $"The body is over {maxBytes} bytes."),
        BodyReadOutcome.TooSlow => (408, "too-slow", "The body did not arrive in time."),
        BodyReadOutcome.Unreadable => (400, "bad-body", "The body could not be read."),
        _ => null,
    };
}
