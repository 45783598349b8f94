using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Zoom;

/// <summary>
/// Counts meeting creates and updates per host per UTC day in table <c>ZoomHostQuota</c> (PartitionKey host id,
/// RowKey yyyyMMdd), shared by every instance, so the 101st call of a day is never sent.
/// </summary>
public sealed class ZoomDailyLimit(StorageAccount storage, IOptions<ZoomOptions> options, TimeProvider time)
{
    internal const string CountColumn = "Count";
    private const int MaxAttempts = 20;

    // Last count this instance wrote per host until the day ends, so a warm reservation is one write; a stale one only costs a 412 and a read.
    private readonly RememberedValues<(int Used, ETag ETag)> _last = new();

    /// <summary>The first moment work held back today may run: the next 00:00 UTC plus a margin.</summary>
    public static DateTimeOffset NextResetUtc(DateTimeOffset now, TimeSpan margin) =>
        new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddDays(1) + margin;

    /// <summary>The row key of the UTC day <paramref name="now"/> falls in.</summary>
    public static string DayKey(DateTimeOffset now) => now.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>Takes one create/update from the host's allowance for today, or throws when none is left.</summary>
    public async Task ReserveAsync(string hostId, CancellationToken cancellationToken = default)
    {
        var table = storage.Table(TableNames.ZoomHostQuota);
        var limit = options.Value.DailyCreateUpdateLimitPerHost;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var now = time.GetUtcNow();
            var day = DayKey(now);
            ETag? etag;
            int used;
            if (_last.TryGet(hostId, now, out var last))
            {
                (used, etag) = (last.Used, last.ETag);
            }
            else
            {
                var existing = await table.GetEntityIfExistsAsync<TableEntity>(hostId, day, cancellationToken: cancellationToken);
                (used, etag) = existing.HasValue ? (existing.Value!.GetInt32(CountColumn) ?? 0, existing.Value.ETag) : (0, (ETag?)null);
            }

            if (used >= limit)
            {
                // The count only grows within a day, so a remembered full count is still full.
                throw new ZoomDailyLimitReachedException(hostId, NextResetUtc(now, options.Value.DailyLimitResetMargin));
            }

            var entity = new TableEntity(hostId, day) { [CountColumn] = used + 1 };
            try
            {
                var written = etag is { } current
                    ? await table.UpdateEntityAsync(entity, current, TableUpdateMode.Replace, cancellationToken)
                    : await table.AddEntityAsync(entity, cancellationToken);
                if (written.Headers.ETag is { } writtenETag)
                {
                    _last.Remember(hostId, (used + 1, writtenETag), NextResetUtc(now, TimeSpan.Zero));
                }
                else
                {
                    _last.Forget(hostId);
                }

                return;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412)
            {
                // Another instance took one at the same moment: read again. Real time: this is storage contention.
                _last.Forget(hostId);
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 * attempt)), cancellationToken);
            }
        }

        throw new ZoomQuotaContentionException(hostId, MaxAttempts);
    }

    /// <summary>Zoom said the host is spent (other apps share its allowance): no more calls for it today.</summary>
    public async Task MarkExhaustedAsync(string hostId, CancellationToken cancellationToken = default)
    {
        var entity = new TableEntity(hostId, DayKey(time.GetUtcNow())) { [CountColumn] = options.Value.DailyCreateUpdateLimitPerHost };
        _last.Forget(hostId);
        await storage.Table(TableNames.ZoomHostQuota).UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>How many creates/updates the host has used today.</summary>
    public async Task<int> UsedTodayAsync(string hostId, CancellationToken cancellationToken = default)
    {
        var existing = await storage.Table(TableNames.ZoomHostQuota).GetEntityIfExistsAsync<TableEntity>(hostId, DayKey(time.GetUtcNow()), cancellationToken: cancellationToken);
        return existing.HasValue ? existing.Value!.GetInt32(CountColumn) ?? 0 : 0;
    }
}

/// <summary>The quota row kept changing under us on every attempt; the message is retried later.</summary>
public sealed class ZoomQuotaContentionException(string hostId, int attempts)
    : Exception($"Zoom quota row of host {hostId} changed concurrently on each of {attempts} attempts.");
