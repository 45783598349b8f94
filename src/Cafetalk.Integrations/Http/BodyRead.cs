namespace Cafetalk.Integrations.Http;

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
