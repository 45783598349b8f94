using System.Text;
using Azure;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Cli.Draining;

/// <summary>Puts events on <c>booking-events</c> as the booking system does.</summary>
internal sealed class EventPublisher(StorageAccount storage, BookingEventIntake intake)
{
    // A line longer than a queue message can carry goes straight to intake, which files it in the poison queue
    // (original kept in a blob) with its reason.

    /// <summary>Sends each message; returns the outcomes of those that had to bypass the queue.</summary>
    public async Task<List<IntakeOutcome>> PublishAsync(IEnumerable<string> messages, CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        var queue = storage.Queue(QueueNames.BookingEvents);
        var direct = new List<IntakeOutcome>();
        foreach (var message in messages)
        {
            if (Encoding.UTF8.GetByteCount(message) > StorageAccount.MaxQueueMessageBytes)
            {
                direct.Add(await intake.ProcessAsync(message, messageId: null, cancellationToken));
                continue;
            }

            try
            {
                await queue.SendMessageAsync(message, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status == 413)
            {
                direct.Add(await intake.ProcessAsync(message, messageId: null, cancellationToken));
            }
        }

        return direct;
    }

    /// <summary>One message per non-blank line, exactly as written: bad lines are the intake's to reject.</summary>
    public static async Task<IReadOnlyList<string>> ReadLinesAsync(FileInfo file, CancellationToken cancellationToken = default)
    {
        var lines = await File.ReadAllLinesAsync(file.FullName, Encoding.UTF8, cancellationToken);
        return lines.Where(line => !string.IsNullOrWhiteSpace(line)).ToList();
    }
}
