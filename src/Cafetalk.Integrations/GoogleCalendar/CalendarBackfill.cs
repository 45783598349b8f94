using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>Queues a calendar converge for each of a lecturer's upcoming confirmed bookings: after a connect, and after a lesson calendar is made anew.</summary>
internal static class CalendarBackfill
{
    public static async Task<int> QueueUpcomingAsync(StorageAccount storage, DateTimeOffset now, TimeSpan horizon, string lecturerId, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {lecturerId} and Status eq {nameof(BookingStatus.Confirmed)} and StartsAtUtc ge {now} and StartsAtUtc le {now + horizon}");
        var queue = storage.Queue(QueueNames.CalendarConverge);
        var count = 0;
        await foreach (var row in new BookingRows(storage).QueryAsync(filter, ["PartitionKey", "RowKey"], cancellationToken))
        {
            await queue.SendMessageAsync(new ConvergeRequest(row.PartitionKey, row.RowKey).ToJson(), cancellationToken);
            count++;
        }

        return count;
    }
}
