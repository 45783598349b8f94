using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Newsletter;

/// <summary>Whether the member wants the list.</summary>
public enum SubscriptionStatus
{
    Subscribed,
    Unsubscribed,
}

/// <summary>Where a consent change came from; kept in the history for §10 and 特定電子メール法 records.</summary>
public static class ConsentSources
{
    public const string Event = "event";
    public const string OneClick = "one-click";
    public const string Page = "page";
    public const string Resubscribe = "resubscribe";
    public const string Erasure = "erasure";
    public const string Reconcile = "reconcile";
}

/// <summary>One member's subscription to one list. The email stays sealed (see <see cref="FieldProtector"/>).</summary>
public sealed record NewsletterSubscription(
    string MemberId,
    string SubjectRef,
    string List,
    SubscriptionStatus Status,
    string ProtectedEmail,
    string Locale,
    string ConsentRecordId,
    DateTimeOffset UpdatedAtUtc,
    SubscriptionStatus? MailServiceStatus);

/// <summary>One entry of the append-only consent history.</summary>
public sealed record ConsentChange(string List, string Action, string Source, DateTimeOffset AtUtc, string? TokenId, string? ConsentRecordId);

/// <summary>What a status change did.</summary>
public enum StatusChange
{
    Changed,
    AlreadyThere,
    NotFound,
}

/// <summary>
/// Table <c>NewsletterSubscriptions</c>, partitioned by the member's pseudonym: the subscription rows
/// (<c>sub|{list}</c>) and their append-only consent history (<c>hist|{list}|{ticks}|{id}</c>) live in one
/// partition, so each change and its history entry commit in one entity-group transaction.
/// </summary>
public sealed class NewsletterSubscriptionStore(StorageAccount storage, FieldProtector protector, TimeProvider time)
{
    private const int MaxAttempts = 10;

    private TableClient Table => storage.Table(TableNames.NewsletterSubscriptions);

    private static string SubscriptionKey(string list) => $"sub|{list}";

    /// <summary>The associated data that binds a sealed email to its row.</summary>
    internal static string EmailBinding(string subjectRef, string list) => $"{TableNames.NewsletterSubscriptions}/{subjectRef}/{SubscriptionKey(list)}";

    public async Task<NewsletterSubscription?> GetAsync(string subjectRef, string list, CancellationToken cancellationToken = default)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(subjectRef, SubscriptionKey(list), cancellationToken: cancellationToken);
        return row.HasValue ? ToSubscription(row.Value!) : null;
    }

    /// <summary>The sealed email opened for the one call that needs it (the mail service); never logged.</summary>
    public string OpenEmail(NewsletterSubscription subscription) =>
        protector.Unprotect(subscription.ProtectedEmail, EmailBinding(subscription.SubjectRef, subscription.List));

    /// <summary>Records a subscription from the booking system with its consent record; a redelivery changes nothing.</summary>
    public async Task<StatusChange> SubscribeAsync(string memberId, string subjectRef, string list, string email, string locale, string consentRecordId, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var existing = await Table.GetEntityIfExistsAsync<TableEntity>(subjectRef, SubscriptionKey(list), cancellationToken: cancellationToken);
            if (existing.HasValue && existing.Value!.GetString("ConsentRecordId") == consentRecordId)
            {
                return StatusChange.AlreadyThere;
            }

            var now = time.GetUtcNow();
            var row = new TableEntity(subjectRef, SubscriptionKey(list))
            {
                ["MemberId"] = memberId,
                ["Status"] = nameof(SubscriptionStatus.Subscribed),
                ["EmailProtected"] = protector.Protect(email, EmailBinding(subjectRef, list)),
                ["Locale"] = locale,
                ["ConsentRecordId"] = consentRecordId,
                ["UpdatedAtUtc"] = now,
            };
            var history = HistoryRow(subjectRef, list, "subscribe", ConsentSources.Event, now, null, consentRecordId);
            TableTransactionAction write = existing.HasValue
                ? new(TableTransactionActionType.UpdateReplace, KeepMailStatus(row, existing.Value!), existing.Value!.ETag)
                : new(TableTransactionActionType.Add, row);
            if (await TryCommitAsync([write, new(TableTransactionActionType.Add, history)], cancellationToken))
            {
                return StatusChange.Changed;
            }
        }

        throw new NewsletterConflictException(MaxAttempts);
    }

    /// <summary>Moves a subscription to <paramref name="status"/> and records why; idempotent.</summary>
    public async Task<(StatusChange Change, NewsletterSubscription? Subscription)> SetStatusAsync(
        string subjectRef, string list, SubscriptionStatus status, string source, string? tokenId, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var existing = await Table.GetEntityIfExistsAsync<TableEntity>(subjectRef, SubscriptionKey(list), cancellationToken: cancellationToken);
            if (!existing.HasValue)
            {
                return (StatusChange.NotFound, null);
            }

            var current = ToSubscription(existing.Value!);
            if (current.Status == status)
            {
                return (StatusChange.AlreadyThere, current);
            }

            var now = time.GetUtcNow();
            var update = new TableEntity(subjectRef, SubscriptionKey(list)) { ["Status"] = status.ToString(), ["UpdatedAtUtc"] = now };
            var action = status == SubscriptionStatus.Unsubscribed ? "unsubscribe" : "resubscribe";
            var history = HistoryRow(subjectRef, list, action, source, now, tokenId, current.ConsentRecordId);
            if (await TryCommitAsync(
                    [new(TableTransactionActionType.UpdateMerge, update, existing.Value!.ETag), new(TableTransactionActionType.Add, history)],
                    cancellationToken))
            {
                return (StatusChange.Changed, current with { Status = status, UpdatedAtUtc = now });
            }
        }

        throw new NewsletterConflictException(MaxAttempts);
    }

    /// <summary>Notes what the mail service now has, so reconcile and status pages know it is in step.</summary>
    public async Task MarkMailServiceAsync(string subjectRef, string list, SubscriptionStatus mailStatus, CancellationToken cancellationToken = default) =>
        await Table.UpdateEntityAsync(
            new TableEntity(subjectRef, SubscriptionKey(list)) { ["MailServiceStatus"] = mailStatus.ToString(), ["MailServiceSyncedAtUtc"] = time.GetUtcNow() },
            ETag.All, TableUpdateMode.Merge, cancellationToken);

    public async Task<IReadOnlyList<ConsentChange>> HistoryAsync(string subjectRef, CancellationToken cancellationToken = default)
    {
        var changes = new List<ConsentChange>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {subjectRef} and RowKey ge {"hist|"} and RowKey lt {"hist}"}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            changes.Add(new ConsentChange(row.GetString("List")!, row.GetString("Action")!, row.GetString("Source")!,
                row.GetDateTimeOffset("AtUtc")!.Value, row.GetString("TokenId"), row.GetString("ConsentRecordId")));
        }

        return changes;
    }

    /// <summary>One member's subscriptions, by pseudonym.</summary>
    public async Task<IReadOnlyList<NewsletterSubscription>> ListForSubjectAsync(string subjectRef, CancellationToken cancellationToken = default)
    {
        var found = new List<NewsletterSubscription>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {subjectRef} and RowKey ge {"sub|"} and RowKey lt {"sub}"}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            found.Add(ToSubscription(row));
        }

        return found;
    }

    /// <summary>Every subscription row, for the nightly reconcile with the mail service.</summary>
    public async IAsyncEnumerable<NewsletterSubscription> ListAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var row in Table.QueryAsync<TableEntity>(e => e.RowKey.CompareTo("sub|") >= 0 && e.RowKey.CompareTo("sub}") < 0, cancellationToken: cancellationToken))
        {
            yield return ToSubscription(row);
        }
    }

    /// <summary>Deletes a member's subscription rows (erasure); the history goes too, with the pseudonym mapping.</summary>
    public async Task<int> DeleteAllAsync(string subjectRef, CancellationToken cancellationToken = default)
    {
        var deleted = 0;
        await foreach (var row in Table.QueryAsync<TableEntity>(e => e.PartitionKey == subjectRef, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            await Table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
            deleted++;
        }

        return deleted;
    }

    private async Task<bool> TryCommitAsync(IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken)
    {
        try
        {
            await Table.SubmitTransactionAsync(actions, cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412)
        {
            return false;
        }
    }

    private static TableEntity KeepMailStatus(TableEntity row, TableEntity existing)
    {
        foreach (var column in new[] { "MailServiceStatus", "MailServiceSyncedAtUtc" })
        {
            if (existing.TryGetValue(column, out var value))
            {
                row[column] = value;
            }
        }

        return row;
    }

    private static TableEntity HistoryRow(string subjectRef, string list, string action, string source, DateTimeOffset at, string? tokenId, string? consentRecordId) =>
        new(subjectRef, $"hist|{list}|{at.UtcTicks.ToString("D19", CultureInfo.InvariantCulture)}|{Guid.NewGuid():N}")
        {
            ["List"] = list,
            ["Action"] = action,
            ["Source"] = source,
            ["AtUtc"] = at,
            ["TokenId"] = tokenId,
            ["ConsentRecordId"] = consentRecordId,
        };

    private static NewsletterSubscription ToSubscription(TableEntity row) => new(
        row.GetString("MemberId") ?? string.Empty,
        row.PartitionKey,
        row.RowKey["sub|".Length..],
        Enum.Parse<SubscriptionStatus>(row.GetString("Status")!),
        row.GetString("EmailProtected")!,
        row.GetString("Locale") ?? "ja",
        row.GetString("ConsentRecordId") ?? string.Empty,
        row.GetDateTimeOffset("UpdatedAtUtc") ?? DateTimeOffset.MinValue,
        row.GetString("MailServiceStatus") is { } mail ? Enum.Parse<SubscriptionStatus>(mail) : null);
}

/// <summary>A subscription kept changing under us on every attempt; the request is retried later.</summary>
public sealed class NewsletterConflictException(int attempts) : Exception($"The subscription changed concurrently on each of {attempts} attempts.");
