using System.Text.Json;
using System.Text.Json.Serialization;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Bookings;

/// <summary>A message on a converge queue: which booking a provider must be made to match. Ids only.</summary>
public sealed record ConvergeRequest(
    [property: JsonPropertyName("lecturerId")] string LecturerId,
    [property: JsonPropertyName("bookingId")] string BookingId)
{
    public string ToJson() => JsonSerializer.Serialize(this);

    public static ConvergeRequest? TryParse(string message)
    {
        try
        {
            return JsonSerializer.Deserialize<ConvergeRequest>(message) is { LecturerId.Length: > 0, BookingId.Length: > 0 } request ? request : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// Asks every provider's converger to look at a booking whose desired state changed: one message per converge
/// queue. A crash between the state write and these messages leaves the row's <c>ConvergeRequestedVersion</c>
/// behind its version, so the host's retry of the same event sends them again (<see cref="ApplyResult.RequestsPending"/>).
/// </summary>
public sealed class ConvergeRequests(StorageAccount storage)
{
    public async Task RequestAsync(string lecturerId, string bookingId, CancellationToken cancellationToken = default)
    {
        var message = new ConvergeRequest(lecturerId, bookingId).ToJson();
        foreach (var queue in QueueNames.ConvergeQueues)
        {
            await storage.Queue(queue).SendMessageAsync(message, cancellationToken);
        }
    }
}
