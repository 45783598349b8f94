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
/// <c>com.cafetalk.recording.upload-failed</c> on <c>site-notifications</c> for the site, through the row's outbox. Zoom's copy is kept: it is
/// the only one.
/// </summary>
public sealed class RecordingFailures(IMeterFactory meterFactory, TimeProvider time, ILogger<RecordingFailures> logger)
{
    public const string UploadFailedMetric = "cafetalk.recording.upload_failed";

    private readonly Counter<long> _failed = meterFactory.Create(PipelineMeter.Name)
        .CreateCounter<long>(UploadFailedMetric, "{recording}", "Recordings whose upload attempts were all spent");

    internal async Task RecordAsync(BookingRows rows, TableEntity row, int attempts, string correlationId, CancellationToken cancellationToken)
    {
        // The stated end and the site's notice of it land in one write; the notice is sent after (SiteOutbox).
        var notice = SiteOutboxMarker.RecordingUploadFailed(row.GetInt64(BookingRow.Version) ?? 0, attempts, zoomCopyKept: true, correlationId);
        await rows.Outbox.WriteAndSendAsync(row, RecordingColumns.Failed(row, time.GetUtcNow()), [notice], cancellationToken);
        _failed.Add(1);
        logger.LogError("Recording of booking {BookingId} could not be uploaded to Vimeo after {Attempts} attempts; it stays in Zoom's cloud and the site was told", row.RowKey, attempts);
    }
}
