namespace Cafetalk.Integrations.Storage;

/// <summary>
/// What a queue's handler made of one message: the value it reads as, or the one reason it is refused with (a detail
/// that names fields, never values). <see cref="CorrelationId"/> is an id the message itself carries, when it is one
/// safe to log; <see cref="KeptAs"/> replaces the original in the poison entry when the original must not be stored.
/// </summary>
public sealed record QueueMessageReading<T>(T? Value, string? Reason = null, string? Detail = null, string? CorrelationId = null, string? KeptAs = null)
    where T : class;

/// <summary>Makes the two kinds of <see cref="QueueMessageReading{T}"/>.</summary>
public static class QueueMessageReading
{
    /// <summary>A message that reads as <paramref name="value"/>.</summary>
    public static QueueMessageReading<T> Read<T>(T value, string? correlationId = null)
        where T : class => new(value, CorrelationId: correlationId);

    /// <summary>A message refused with <paramref name="reason"/>; it goes to the poison queue once, never retried hot.</summary>
    public static QueueMessageReading<T> Refused<T>(string reason, string detail, string? correlationId = null)
        where T : class => new(null, reason, detail, correlationId);
}
