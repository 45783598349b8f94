using System.Diagnostics.Metrics;
using System.Text.Json;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Telemetry;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Vimeo;

/// <summary>
/// Ends a recording whose upload attempts are spent in a stated state: <c>RecordingDisposition=UploadFailed</c> on the
/// row, an error log and the <c>cafetalk.recording.upload_failed</c> counter to alert on, and
/// <c>com.cafetalk.recording.upload-failed</c> on <c>site-notifications</c> for the site. Zoom's copy is kept: it is
/// the only one.
/// </summary>
public sealed class RecordingFailures(StorageAccount storage, IMeterFactory meterFactory, TimeProvider time, ILogger<RecordingFailures> logger)
{
    public const string UploadFailedType = "com.cafetalk.recording.upload-failed";
    public const string UploadFailedMetric = "cafetalk.recording.upload_failed";

    private readonly Counter<long> _failed = meterFactory.Create(PipelineMeter.Name)
        .CreateCounter<long>(UploadFailedMetric, "{recording}", "Recordings whose upload attempts were all spent");

    internal async Task RecordAsync(TableClient table, TableEntity row, int attempts, string correlationId, CancellationToken cancellationToken)
    {
        await RecordingColumns.WriteAsync(table, RecordingColumns.Failed(row, time.GetUtcNow()), cancellationToken);
        var cloudEvent = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["specversion"] = "1.0",
            ["id"] = Guid.NewGuid().ToString("N"),
            ["source"] = "/cafetalk-integrations/recordings",
            ["type"] = UploadFailedType,
            ["time"] = time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["datacontenttype"] = "application/json",
            ["data"] = new Dictionary<string, object>
            {
                ["bookingId"] = row.RowKey,
                ["lecturerId"] = row.PartitionKey,
                ["attempts"] = attempts,
                ["zoomCopyKept"] = true,
                ["correlationId"] = correlationId,
            },
        });
        await storage.Queue(QueueNames.SiteNotifications).SendMessageAsync(cloudEvent, cancellationToken);
        _failed.Add(1);
        logger.LogError("Recording of booking {BookingId} could not be uploaded to Vimeo after {Attempts} attempts; it stays in Zoom's cloud and the site was told", row.RowKey, attempts);
    }
}
