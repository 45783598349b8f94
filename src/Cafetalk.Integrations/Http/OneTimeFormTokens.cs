using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Http;

/// <summary>
/// One-time tokens our own pages put in a form that changes something only the person should decide (replacing a
/// Google connection, resubscribing): table <c>FormTokens</c>, keyed by a hash of the token, holding a hash of what
/// the form is for and an expiry. Redeeming deletes the row against its ETag, so a token works once, for its own
/// purpose and binding, before it expires. Rows hold no member data; <see cref="PurgeExpiredAsync(CancellationToken)"/> removes expired ones.
/// </summary>
public sealed class OneTimeFormTokens(StorageAccount storage, TimeProvider time)
{
    /// <summary>32 random bytes in base64url.</summary>
    public const int TokenLength = 43;

    private const string Binding = nameof(Binding);
    private const string ExpiresAtUtc = nameof(ExpiresAtUtc);

    private TableClient Table => storage.Table(TableNames.FormTokens);

    /// <summary>A fresh token for <paramref name="purpose"/> bound to <paramref name="binding"/> (e.g. the link it was shown for).</summary>
    public async Task<string> IssueAsync(string purpose, string binding, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        await Table.AddEntityAsync(new TableEntity(Hash(token), purpose)
        {
            [Binding] = Hash(binding),
            [ExpiresAtUtc] = time.GetUtcNow() + lifetime,
        }, cancellationToken);
        return token;
    }

    /// <summary>Spends the token; true only for a token issued for this purpose and binding, not used and not expired.</summary>
    public async Task<bool> RedeemAsync(string? token, string purpose, string binding, CancellationToken cancellationToken = default)
    {
        if (token is not { Length: TokenLength } || token.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not '-' and not '_'))
        {
            return false;
        }

        var key = Hash(token);
        var found = await Table.GetEntityIfExistsAsync<TableEntity>(key, purpose, cancellationToken: cancellationToken);
        if (!found.HasValue)
        {
            return false;
        }

        var row = found.Value!;
        // Whoever deletes the row first owns the token: a second submit, even concurrent, finds nothing.
        if (!await TableClaims.TryDeleteAsync(Table, key, purpose, row.ETag, cancellationToken))
        {
            return false;
        }

        return row.GetString(Binding) == Hash(binding) && row.GetDateTimeOffset(ExpiresAtUtc) is { } expires && expires > time.GetUtcNow();
    }

    /// <summary>Deletes tokens past their expiry (never redeemed); returns how many.</summary>
    public Task<int> PurgeExpiredAsync(CancellationToken cancellationToken = default) => PurgeExpiredAsync(Table, time.GetUtcNow(), cancellationToken);

    /// <summary>Deletes the rows of <paramref name="table"/> whose <c>ExpiresAtUtc</c> is before <paramref name="now"/>; returns how many.</summary>
    internal static async Task<int> PurgeExpiredAsync(TableClient table, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var purged = 0;
        var filter = TableClient.CreateQueryFilter($"ExpiresAtUtc lt {now}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            try
            {
                await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
                purged++;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                // Used or purged meanwhile.
            }
        }

        return purged;
    }

    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
