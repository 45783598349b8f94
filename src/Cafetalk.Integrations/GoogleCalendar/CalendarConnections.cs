using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>Where a lecturer's Google connection stands.</summary>
public enum ConnectionStatus
{
    Connected,
    /// <summary>Google answered invalid_grant: the lecturer withdrew access. Nothing is retried until they connect again.</summary>
    Revoked,
}

/// <summary>A lecturer's Google connection as stored, the refresh token opened.</summary>
public sealed record CalendarConnection(
    string LecturerId,
    ConnectionStatus Status,
    string RefreshToken,
    string CalendarId,
    string ConsentId,
    DateTimeOffset ConnectedAtUtc,
    string? SyncToken,
    ETag ETag)
{
    /// <summary>The ledger's legal basis for everything sent under this connection: the lecturer's OAuth consent.</summary>
    public string ConsentRecordId => $"google-consent:{ConsentId}";

    /// <summary>No secret in records' default text: the refresh token stays out of logs and exception messages.</summary>
    public override string ToString() => $"CalendarConnection {{ LecturerId = {LecturerId}, Status = {Status}, ConsentId = {ConsentId} }}";
}

/// <summary>
/// Table <c>CalendarConnections</c> (PartitionKey <c>google</c>, RowKey lecturerId): one row per connected lecturer.
/// The refresh token is sealed with AES-GCM under a key id, with the row's table, partition and row key as associated
/// data, so a ciphertext copied onto another lecturer's row does not open.
/// </summary>
public sealed class CalendarConnections(StorageAccount storage, FieldProtector protector, TimeProvider time)
{
    /// <summary>How long the converger reuses a live connection it read; every write through this instance forgets it at once.</summary>
    public static readonly TimeSpan RecentFor = TimeSpan.FromMinutes(1);

    public const string Partition = "google";
    private const string Status = nameof(Status);
    private const string RefreshToken = nameof(RefreshToken);
    private const string CalendarId = nameof(CalendarId);
    private const string ConsentId = nameof(ConsentId);
    private const string ConnectedAtUtc = nameof(ConnectedAtUtc);
    private const string RevokedAtUtc = nameof(RevokedAtUtc);
    private const string SyncToken = nameof(SyncToken);

    // Live connections only: a lecturer who just connected must never be taken for one who has not.
    private readonly ConcurrentDictionary<string, (CalendarConnection Connection, DateTimeOffset ReadAt)> _recent = new(StringComparer.Ordinal);

    private TableClient Table => storage.Table(TableNames.CalendarConnections);

    public static string AssociatedData(string lecturerId) => $"{TableNames.CalendarConnections}/{Partition}/{lecturerId}";

    /// <summary>Stores (or replaces) a lecturer's connection.</summary>
    public async Task SaveAsync(string lecturerId, string refreshToken, string calendarId, string consentId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var entity = new TableEntity(Partition, lecturerId)
        {
            [Status] = nameof(ConnectionStatus.Connected),
            [RefreshToken] = protector.Protect(refreshToken, AssociatedData(lecturerId)),
            [CalendarId] = calendarId,
            [ConsentId] = consentId,
            [ConnectedAtUtc] = now,
            [SyncToken] = string.Empty,
        };
        _recent.TryRemove(lecturerId, out _);
        await Table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>The lecturer's connection, or null when there is none. Throws <see cref="FieldProtectionException"/> when the token does not open for this row.</summary>
    public async Task<CalendarConnection?> FindAsync(string lecturerId, CancellationToken cancellationToken = default)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, lecturerId, cancellationToken: cancellationToken);
        return row.HasValue ? Read(row.Value!) : null;
    }

    /// <summary>
    /// Like <see cref="FindAsync"/>, but a live connection read in the last <see cref="RecentFor"/> is reused: a burst of
    /// one lecturer's bookings costs one read. A connection another instance changed meanwhile fails at Google
    /// (revoked grant, deleted calendar) and is read again by the code that handles that answer.
    /// </summary>
    public async Task<CalendarConnection?> FindRecentAsync(string lecturerId, CancellationToken cancellationToken = default)
    {
        if (_recent.TryGetValue(lecturerId, out var recent) && time.GetUtcNow() - recent.ReadAt < RecentFor)
        {
            return recent.Connection;
        }

        var found = await FindAsync(lecturerId, cancellationToken);
        if (found is { Status: ConnectionStatus.Connected })
        {
            _recent[lecturerId] = (found, time.GetUtcNow());
        }
        else
        {
            _recent.TryRemove(lecturerId, out _);
        }

        return found;
    }

    /// <summary>Every connected lecturer, for the nightly sync.</summary>
    public async IAsyncEnumerable<CalendarConnection> ListConnectedAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and Status eq {nameof(ConnectionStatus.Connected)}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            yield return Read(row);
        }
    }

    /// <summary>Marks the connection revoked; true only for the caller that changed it, so the lecturer is told once.</summary>
    public async Task<bool> MarkRevokedAsync(CalendarConnection connection, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        _recent.TryRemove(connection.LecturerId, out _);
        try
        {
            await Table.UpdateEntityAsync(new TableEntity(Partition, connection.LecturerId)
            {
                [Status] = nameof(ConnectionStatus.Revoked),
                [RevokedAtUtc] = now,
            }, connection.ETag, TableUpdateMode.Merge, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return false;
        }
    }

    /// <summary>Points the connection at a re-created calendar and forgets the old one's sync token; false when the row changed meanwhile.</summary>
    public async Task<bool> ReplaceCalendarAsync(CalendarConnection connection, string calendarId, CancellationToken cancellationToken = default)
    {
        _recent.TryRemove(connection.LecturerId, out _);
        try
        {
            await Table.UpdateEntityAsync(new TableEntity(Partition, connection.LecturerId) { [CalendarId] = calendarId, [SyncToken] = string.Empty },
                connection.ETag, TableUpdateMode.Merge, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return false;
        }
    }

    /// <summary>Remembers where the next incremental sync starts (empty: a full sync next time).</summary>
    public async Task SaveSyncTokenAsync(string lecturerId, string? syncToken, CancellationToken cancellationToken = default)
    {
        try
        {
            await Table.UpdateEntityAsync(new TableEntity(Partition, lecturerId) { [SyncToken] = syncToken ?? string.Empty }, ETag.All, TableUpdateMode.Merge, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Disconnected meanwhile: there is nothing to sync any more.
        }
    }

    public async Task DeleteAsync(string lecturerId, CancellationToken cancellationToken = default)
    {
        _recent.TryRemove(lecturerId, out _);
        try
        {
            await Table.DeleteEntityAsync(Partition, lecturerId, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Already gone: a disconnect is idempotent.
        }
    }

    private CalendarConnection Read(TableEntity row) => new(
        row.RowKey,
        Enum.TryParse<ConnectionStatus>(row.GetString(Status), out var status) ? status : ConnectionStatus.Revoked,
        protector.Unprotect(row.GetString(RefreshToken) ?? string.Empty, AssociatedData(row.RowKey)),
        row.GetString(CalendarId) ?? string.Empty,
        row.GetString(ConsentId) ?? string.Empty,
        row.GetDateTimeOffset(ConnectedAtUtc) ?? DateTimeOffset.MinValue,
        string.IsNullOrEmpty(row.GetString(SyncToken)) ? null : row.GetString(SyncToken),
        row.ETag);
}

/// <summary>
/// A pending consent: whose it is, its PKCE verifier, the hash of the browser cookie it is bound to, the ticket it was
/// started with (spent at the callback) and the consent id of the connection the lecturer confirmed replacing (null: none).
/// </summary>
public sealed record ConnectState(string LecturerId, string CodeVerifier, byte[] CookieHash, DateTimeOffset ExpiresAtUtc,
    string TicketId, DateTimeOffset TicketExpiresAtUtc, string? ReplacesConsentId);

/// <summary>
/// Table <c>CalendarConnectStates</c> (PartitionKey state, RowKey <c>state</c>): one-time OAuth states. Taking a state
/// deletes it against its ETag, so a replayed callback finds nothing; the verifier is sealed with the state as associated data.
/// </summary>
public sealed class CalendarConnectStates(StorageAccount storage, FieldProtector protector)
{
    private const string RowKey = "state";

    private TableClient Table => storage.Table(TableNames.CalendarConnectStates);

    public async Task SaveAsync(string state, ConnectState pending, CancellationToken cancellationToken = default) =>
        await Table.AddEntityAsync(new TableEntity(state, RowKey)
        {
            ["LecturerId"] = pending.LecturerId,
            ["CodeVerifier"] = protector.Protect(pending.CodeVerifier, $"{TableNames.CalendarConnectStates}/{state}"),
            ["CookieHash"] = Convert.ToBase64String(pending.CookieHash),
            ["ExpiresAtUtc"] = pending.ExpiresAtUtc,
            ["TicketId"] = pending.TicketId,
            ["TicketExpiresAtUtc"] = pending.TicketExpiresAtUtc,
            ["ReplacesConsentId"] = pending.ReplacesConsentId,
        }, cancellationToken);

    /// <summary>Removes and returns the state; null when it is unknown or someone took it first (a replay).</summary>
    public async Task<ConnectState?> TakeAsync(string state, CancellationToken cancellationToken = default)
    {
        var found = await Table.GetEntityIfExistsAsync<TableEntity>(state, RowKey, cancellationToken: cancellationToken);
        if (!found.HasValue)
        {
            return null;
        }

        var row = found.Value!;
        // Taken once: a replayed or concurrent callback with the same state finds nothing.
        if (!await TableClaims.TryDeleteAsync(Table, state, RowKey, row.ETag, cancellationToken))
        {
            return null;
        }

        return new ConnectState(
            row.GetString("LecturerId") ?? string.Empty,
            protector.Unprotect(row.GetString("CodeVerifier") ?? string.Empty, $"{TableNames.CalendarConnectStates}/{state}"),
            Convert.FromBase64String(row.GetString("CookieHash") ?? string.Empty),
            row.GetDateTimeOffset("ExpiresAtUtc") ?? DateTimeOffset.MinValue,
            row.GetString("TicketId") ?? string.Empty,
            row.GetDateTimeOffset("TicketExpiresAtUtc") ?? DateTimeOffset.MinValue,
            string.IsNullOrEmpty(row.GetString("ReplacesConsentId")) ? null : row.GetString("ReplacesConsentId"));
    }
}
