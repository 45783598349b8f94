using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Azure;
using Azure.Data.Tables;

namespace Cafetalk.Integrations.Bookings;

/// <summary>
/// The outbox of table <c>Bookings</c>: a provider fact and the notification it implies are written in one merge (the
/// fact's columns plus a marker column per notification type, <see cref="SiteOutboxMarker"/>), and the notification
/// is sent after, then its marker cleared against the ETag of that write — or, when the converger asks another once it is
/// done, by that converger's own fact write (<see cref="ConvergeHandOff{TResult}"/>). A worker that dies between the two leaves the
/// marker: the next converge of the booking (<see cref="ConvergeLoop"/>) or the nightly <see cref="SendAllPendingAsync"/>
/// sends it. A notification's id is a digest of its data, so a marker sent twice is one notification to the site.
/// Types that are not a booking row's facts (calendar connections, erasures) are sent directly by <see cref="SiteNotifier"/>.
/// </summary>
public sealed partial class SiteOutbox(BookingRows rows, SiteNotifier notifier)
{
    public const string ColumnPrefix = "SiteOutbox";

    /// <summary>The types sent through the outbox, in the order a row's pending markers are sent.</summary>
    public static readonly IReadOnlyList<SiteNotificationType> Types =
    [
        SiteNotificationTypes.MeetingReady, SiteNotificationTypes.MeetingRemoved, SiteNotificationTypes.RecordingAvailable,
        SiteNotificationTypes.RecordingRemoved, SiteNotificationTypes.RecordingUploadFailed,
    ];

    // A secret is never kept in a marker: it is read from the fact column that holds it when the notification is sent.
    private static readonly Dictionary<string, string> SecretColumns = new(StringComparer.Ordinal) { ["joinUrl"] = MeetingColumns.JoinUrl };

    /// <summary>The marker column of <paramref name="type"/>: <c>com.cafetalk.meeting.ready</c> → <c>SiteOutboxMeetingReady</c>.</summary>
    public static string ColumnOf(SiteNotificationType type) =>
        ColumnPrefix + string.Concat(type.Type["com.cafetalk.".Length..].Split('.', '-').Select(part => char.ToUpperInvariant(part[0]) + part[1..]));

    /// <summary>Adds the markers to a fact write, so both land in the same merge.</summary>
    public static TableEntity Mark(TableEntity columns, IEnumerable<SiteOutboxMarker> markers)
    {
        foreach (var marker in markers)
        {
            columns[marker.Column] = marker.Encode();
        }

        return columns;
    }

    /// <summary>The markers <paramref name="row"/> holds, of <paramref name="types"/> (every outbox type when null).</summary>
    public static IReadOnlyList<SiteOutboxMarker> Pending(TableEntity row, IEnumerable<SiteNotificationType>? types = null) =>
        [.. (types ?? Types).Select(type => SiteOutboxMarker.Decode(type, row.GetString(ColumnOf(type)))).OfType<SiteOutboxMarker>()];

    /// <summary>
    /// A marker named without its data, for a converge message: its column and the first 16 hex digits of the SHA-256 of
    /// its text. The next converger clears the marker only while the row still holds exactly that text.
    /// </summary>
    public static string Digest(SiteOutboxMarker marker) =>
        $"{marker.Column}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(marker.Encode())))[..16]}";

    /// <summary>Whether <paramref name="text"/> has the shape of a <see cref="Digest"/>.</summary>
    public static bool IsDigest(string? text) => text is not null && DigestShape().IsMatch(text);

    [GeneratedRegex("^SiteOutbox[A-Za-z]{1,64}:[0-9a-f]{16}$", RegexOptions.CultureInvariant)]
    private static partial Regex DigestShape();

    /// <summary>The markers <paramref name="row"/> still holds that another converger sent (named by <paramref name="digests"/>).</summary>
    public static IReadOnlyList<SiteOutboxMarker> SentElsewhere(TableEntity row, IReadOnlyCollection<string>? digests) =>
        digests is not { Count: > 0 } ? [] : [.. Pending(row).Where(m => digests.Contains(Digest(m)))];

    /// <summary>Adds the emptying of <paramref name="markers"/> to a write.</summary>
    public static TableEntity Cleared(TableEntity columns, IEnumerable<SiteOutboxMarker> markers)
    {
        foreach (var marker in markers)
        {
            columns[marker.Column] = string.Empty;
        }

        return columns;
    }

    /// <summary>
    /// For a fact written outside <see cref="ConvergeLoop"/>: writes <paramref name="facts"/> with the markers (a merge
    /// without ETag, as such facts are), then sends them. Returns how many notifications were sent.
    /// </summary>
    public async Task<int> WriteAndSendAsync(TableEntity row, TableEntity facts, IReadOnlyList<SiteOutboxMarker> markers, CancellationToken cancellationToken = default)
    {
        var etag = await rows.WriteUnguardedAsync(Mark(facts, markers), cancellationToken);
        return await SendAsync(Overlay(row, facts), etag, markers, cancellationToken);
    }

    /// <summary>
    /// Sends <paramref name="markers"/> of <paramref name="row"/> (as it is after their write, whose ETag is
    /// <paramref name="etag"/>) and clears them. A send that throws leaves every marker for the next converge or sweep.
    /// </summary>
    public async Task<int> SendAsync(TableEntity row, ETag etag, IReadOnlyList<SiteOutboxMarker> markers, CancellationToken cancellationToken = default)
    {
        if (markers.Count == 0)
        {
            return 0;
        }

        var sent = await SendOnlyAsync(row, markers, cancellationToken);
        await ClearAsync(row.PartitionKey, row.RowKey, etag, markers, cancellationToken);
        return sent;
    }

    /// <summary>
    /// Sends <paramref name="markers"/> of <paramref name="row"/> and leaves them on the row, for a converger that hands
    /// their clearing on with its next message (<see cref="ConvergeRequest.SentMarkers"/>). Returns how many were sent.
    /// </summary>
    public async Task<int> SendOnlyAsync(TableEntity row, IReadOnlyList<SiteOutboxMarker> markers, CancellationToken cancellationToken = default)
    {
        var sent = 0;
        foreach (var marker in markers.OrderBy(m => Types.TakeWhile(t => t != m.Type).Count()))
        {
            if (Notification(row, marker) is { } data)
            {
                await notifier.PublishAsync(marker.Type, data, cancellationToken);
                sent++;
            }
        }

        return sent;
    }

    /// <summary>The nightly repair: sends every marker a stopped worker left on any row. Returns how many notifications were sent.</summary>
    public async Task<int> SendAllPendingAsync(CancellationToken cancellationToken = default)
    {
        // A row without the column compares false, so only rows that owe a notification are read.
        var filter = string.Join(" or ", Types.Select(type => $"{ColumnOf(type)} gt ''"));
        var sent = 0;
        await foreach (var row in rows.QueryAsync(filter, cancellationToken: cancellationToken))
        {
            sent += await SendAsync(row, row.ETag, Pending(row), cancellationToken);
        }

        return sent;
    }

    /// <summary>The notification's data: the marker's, the row's keys, and each secret read from its fact column (null when that fact is gone).</summary>
    private static Dictionary<string, object?>? Notification(TableEntity row, SiteOutboxMarker marker)
    {
        var data = new Dictionary<string, object?>(marker.Data, StringComparer.Ordinal)
        {
            ["bookingId"] = row.RowKey,
            ["lecturerId"] = row.PartitionKey,
        };
        foreach (var secret in marker.Type.Fields.Where(f => f.Secret))
        {
            // A link forgotten since (the meeting deleted at Zoom) is not sent: the meeting made again marks its own.
            if (BookingRowColumns.NullIfEmpty(row.GetString(SecretColumns[secret.Name])) is not { } value)
            {
                return null;
            }

            data[secret.Name] = value;
        }

        return data;
    }

    /// <summary>
    /// Empties the sent markers against the ETag of their write; when the row moved meanwhile, only the markers it still
    /// holds unchanged are emptied (a newer one of the same type was written after, and is its writer's to send).
    /// </summary>
    public async Task ClearAsync(string lecturerId, string bookingId, ETag etag, IReadOnlyList<SiteOutboxMarker> markers, CancellationToken cancellationToken)
    {
        var sent = markers.GroupBy(m => m.Column).ToDictionary(g => g.Key, g => g.Last().Encode(), StringComparer.Ordinal);
        await BookingConflictRetry.RunAsync(bookingId, async attempt =>
        {
            if (attempt > 1)
            {
                if (await rows.ReadAsync(lecturerId, bookingId, cancellationToken) is not { } current)
                {
                    return true;
                }

                etag = current.Row.ETag;
                sent = sent.Where(kv => current.Row.GetString(kv.Key) == kv.Value).ToDictionary(StringComparer.Ordinal);
                if (sent.Count == 0)
                {
                    return true;
                }
            }

            var clear = new TableEntity(lecturerId, bookingId);
            foreach (var column in sent.Keys)
            {
                clear[column] = string.Empty;
            }

            return await rows.TryWriteAsync(clear, etag, cancellationToken);
        }, cancellationToken);
    }

    private static TableEntity Overlay(TableEntity row, TableEntity facts)
    {
        var current = new TableEntity(row.PartitionKey, row.RowKey);
        foreach (var (key, value) in row.Concat(facts))
        {
            current[key] = value;
        }

        return current;
    }
}
