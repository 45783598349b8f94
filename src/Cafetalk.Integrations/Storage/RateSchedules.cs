using System.Globalization;
using System.Text;
using Azure;
using Azure.Data.Tables;

namespace Cafetalk.Integrations.Storage;

/// <summary>A block of reserved send times: <see cref="Count"/> times, <see cref="Spacing"/> apart, from <see cref="First"/>.</summary>
internal readonly record struct RateSlots(DateTimeOffset First, int Count, TimeSpan Spacing, int ActiveInstances)
{
    public DateTimeOffset At(int index) => First + (Spacing * index);

    public DateTimeOffset Last => At(Count - 1);
}

/// <summary>Where a rate budget's send times are reserved: in a table shared by every instance, or in this process.</summary>
internal interface IRateSchedule
{
    /// <summary>
    /// Reserves <paramref name="count"/> send times <paramref name="spacing"/> apart, the first no earlier than
    /// <paramref name="notBefore"/> and after every time reserved before it.
    /// </summary>
    Task<RateSlots> ReserveAsync(int count, TimeSpan spacing, DateTimeOffset notBefore, CancellationToken cancellationToken);
}

/// <summary>An in-process schedule: the fallback pacing of one instance when the shared table is unreachable.</summary>
internal sealed class LocalRateSchedule : IRateSchedule
{
    private readonly Lock _gate = new();
    private DateTimeOffset _next = DateTimeOffset.MinValue;

    public Task<RateSlots> ReserveAsync(int count, TimeSpan spacing, DateTimeOffset notBefore, CancellationToken cancellationToken) =>
        Task.FromResult(Reserve(count, spacing, notBefore));

    public RateSlots Reserve(int count, TimeSpan spacing, DateTimeOffset notBefore)
    {
        lock (_gate)
        {
            var first = notBefore > _next ? notBefore : _next;
            _next = first + (spacing * count);
            return new RateSlots(first, count, spacing, 1);
        }
    }
}

/// <summary>
/// The schedule of one provider's budget in table <c>ProviderRateBudget</c>: a single row (PartitionKey provider,
/// RowKey <c>schedule</c>) holding the next free send time, moved on by each reservation under its ETag. The row is
/// overwritten forever, so nothing piles up; it also lists the instances that reserved lately, which tells each
/// instance its fair share if the table becomes unreachable.
/// </summary>
/// <remarks>
/// Cost: one reservation is a conditional update (1 table transaction) when this instance wrote the row last, and a
/// read plus an update (2) when another instance did; a lost race costs one more read and update.
/// </remarks>
internal sealed class TableRateSchedule(StorageAccount storage, string provider, string instanceId, TimeProvider time) : IRateSchedule
{
    public const string ScheduleRowKey = "schedule";
    public const string NextSendAtColumn = "NextSendAtUtc";
    public const string ClaimersColumn = "Claimers";
    public const string RequestsPerSecondColumn = "RequestsPerSecond";

    private const int MaxAttempts = 16;
    private const int MaxClaimers = 200;

    /// <summary>An instance that reserved within this period counts as sharing the budget.</summary>
    private static readonly TimeSpan ActiveWindow = TimeSpan.FromSeconds(10);

    /// <summary>A schedule further ahead than this comes from a skewed clock or a lowered rate: start over from now.</summary>
    private static readonly TimeSpan MaxAhead = TimeSpan.FromMinutes(1);

    private readonly TableClient _table = storage.Table(TableNames.ProviderRateBudget);
    private TableEntity? _lastWritten;
    private bool _lastUncontested;
    private bool _provisioned;

    public async Task<RateSlots> ReserveAsync(int count, TimeSpan spacing, DateTimeOffset notBefore, CancellationToken cancellationToken)
    {
        if (!_provisioned)
        {
            await storage.EnsureProvisionedAsync(cancellationToken);
            _provisioned = true;
        }

        // When nobody else wrote between our last two reservations, our own copy is probably current: skip the read.
        var row = _lastUncontested ? _lastWritten : null;
        var contested = false;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            if (row is null)
            {
                var read = await _table.GetEntityIfExistsAsync<TableEntity>(provider, ScheduleRowKey, cancellationToken: cancellationToken);
                row = read.HasValue ? read.Value : null;
                contested |= row is not null && _lastWritten is not null && row.ETag != _lastWritten.ETag;
            }

            var now = time.GetUtcNow();
            var stored = row?.GetDateTimeOffset(NextSendAtColumn);
            var first = stored is { } next && next > notBefore && next - now < MaxAhead ? next : notBefore;
            var claimers = Claimers(row?.GetString(ClaimersColumn), now);
            claimers[instanceId] = now.ToUnixTimeMilliseconds();
            var updated = new TableEntity(provider, ScheduleRowKey)
            {
                [NextSendAtColumn] = first + (spacing * count),
                [ClaimersColumn] = Format(claimers),
                [RequestsPerSecondColumn] = 1 / spacing.TotalSeconds,
            };

            try
            {
                var response = row is null
                    ? await _table.AddEntityAsync(updated, cancellationToken)
                    : await _table.UpdateEntityAsync(updated, row.ETag, TableUpdateMode.Replace, cancellationToken);
                updated.ETag = response.Headers.ETag ?? default;
                _lastWritten = updated;
                _lastUncontested = !contested;
                return new RateSlots(first, count, spacing, claimers.Count);
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412)
            {
                // Another instance reserved first: read its schedule and go after it.
                contested = true;
                row = null;
            }
        }

        _lastUncontested = false;
        throw new InvalidOperationException($"The {provider} rate schedule changed under each of {MaxAttempts} reservations.");
    }

    /// <summary>Instance id → last reservation (Unix ms), only those within <see cref="ActiveWindow"/>.</summary>
    internal static Dictionary<string, long> Claimers(string? stored, DateTimeOffset now)
    {
        var since = (now - ActiveWindow).ToUnixTimeMilliseconds();
        var claimers = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var entry in (stored ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = entry.Split('=');
            if (parts.Length == 2 && long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var at) && at >= since)
            {
                claimers[parts[0]] = at;
            }
        }

        return claimers;
    }

    private static string Format(Dictionary<string, long> claimers)
    {
        var text = new StringBuilder();
        foreach (var (id, at) in claimers.OrderByDescending(c => c.Value).Take(MaxClaimers))
        {
            text.Append(id).Append('=').Append(at.ToString(CultureInfo.InvariantCulture)).Append(';');
        }

        return text.ToString();
    }
}
