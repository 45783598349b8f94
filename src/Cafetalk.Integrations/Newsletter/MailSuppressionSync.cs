using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Newsletter;

/// <summary>What one sync or reconcile pass did.</summary>
public sealed record SuppressionReconcileReport(int Checked, int SuppressionsAdded, int SuppressionsRemoved, int UnsubscribedAtMailService);

/// <summary>
/// Brings the mail service's suppression groups in line with our subscriptions. A message names a subscription,
/// not an action: the handler reads the current status, so messages in any order end in the right state.
/// The nightly reconcile compares both sides and repairs drift in either direction.
/// </summary>
public sealed class MailSuppressionSync(
    NewsletterSubscriptionStore store,
    MailServiceClient mail,
    DisclosureScope disclosures,
    DisclosurePolicy policy,
    QueueMessageRunner runner,
    StorageAccount storage,
    IOptions<NewsletterOptions> options,
    SuppressionGroupCheck groups,
    ILogger<MailSuppressionSync> logger)
{
    private DisclosurePurpose Purpose => policy.GetPurpose(DisclosurePolicy.PurposeIds.NewsletterSuppression);

    /// <summary>Handles one <c>mail-suppressions</c> message.</summary>
    public Task HandleAsync(string message, string? messageId, CancellationToken cancellationToken = default) =>
        runner.RunAsync<MailSuppressionRequest, bool>(QueueNames.MailSuppressions, message, messageId, MailSuppressionRequest.Read, SyncRequestedAsync, cancellationToken: cancellationToken);

    /// <summary>False when the subscription no longer exists.</summary>
    private async Task<bool> SyncRequestedAsync(QueueMessage<MailSuppressionRequest> message, CancellationToken cancellationToken)
    {
        var (request, correlationId) = (message.Value, message.CorrelationId);
        var subscription = await store.GetAsync(request.SubjectRef, request.List, cancellationToken);
        if (subscription is null)
        {
            // Erased since: the erasure itself settled the suppression.
            logger.LogInformation("Suppression request {CorrelationId}: the subscription no longer exists", correlationId);
            return false;
        }

        await SyncAsync(subscription, correlationId, cancellationToken);
        return true;
    }

    /// <summary>Tells the mail service what the subscription says, unless it already knows.</summary>
    public async Task SyncAsync(NewsletterSubscription subscription, string correlationId, CancellationToken cancellationToken = default)
    {
        // The mail service suppresses nobody it was never told about, so "never told" means "subscribed there".
        if ((subscription.MailServiceStatus ?? SubscriptionStatus.Subscribed) == subscription.Status)
        {
            return;
        }

        var groupId = GroupOf(subscription.List);
        // Before the ledger's intent: a group the service lacks would suppress the address globally.
        await groups.EnsureAsync(cancellationToken);
        var suppress = subscription.Status == SubscriptionStatus.Unsubscribed;
        var item = suppress ? "recipient_emails[]" : "path:email";
        var call = new DisclosureCall(DisclosurePolicy.PurposeIds.NewsletterSuppression, suppress ? "suppress" : "unsuppress",
            [(subscription.MemberId, SubjectRole.Member)], [item], subscription.ConsentRecordId, correlationId);
        await disclosures.RunAsync(call, async context =>
        {
            var email = store.OpenEmail(subscription);
            if (suppress)
            {
                await mail.SuppressAsync(groupId, email, context, cancellationToken);
            }
            else
            {
                await mail.UnsuppressAsync(groupId, email, context, cancellationToken);
            }

            return $"asm-group:{groupId}";
        }, groupRef => groupRef, cancellationToken);
        await store.MarkMailServiceAsync(subscription.SubjectRef, subscription.List, subscription.Status, cancellationToken);
        logger.LogInformation("Mail service {Action} for list {List} done ({CorrelationId})", suppress ? "suppression" : "unsuppression", subscription.List, correlationId);
    }

    /// <summary>
    /// Compares every list's suppression group with our subscriptions. Ours says unsubscribed but the service
    /// still mails → suppress. The service suppressed someone we think subscribed (they unsubscribed at the mail
    /// service, or complained) → we record them as unsubscribed: a suppression a member asked for is never lifted
    /// by us. Only a resubscribe we have not yet told the service lifts one.
    /// </summary>
    public async Task<SuppressionReconcileReport> ReconcileAsync(CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        // Not the process's cached answer: a group deleted since may read as empty, and every unsubscribed member would be re-sent to it (suppressed globally).
        await groups.ReconfirmAsync(cancellationToken);
        var remote = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var (list, groupId) in options.Value.SuppressionGroups)
        {
            var suppressed = await mail.ListSuppressionsAsync(groupId, DisclosureContext.WithoutPersonalData(Purpose), cancellationToken);
            remote[list] = new HashSet<string>(suppressed, StringComparer.OrdinalIgnoreCase);
        }

        int seen = 0, added = 0, removed = 0, unsubscribedThere = 0;
        await foreach (var subscription in store.ListAsync(cancellationToken))
        {
            if (!remote.TryGetValue(subscription.List, out var suppressedThere))
            {
                continue;
            }

            seen++;
            var isSuppressed = suppressedThere.Contains(store.OpenEmail(subscription));
            var correlationId = $"reconcile-{Guid.NewGuid():N}";
            if (subscription.Status == SubscriptionStatus.Unsubscribed && !isSuppressed)
            {
                await SyncAsync(subscription with { MailServiceStatus = SubscriptionStatus.Subscribed }, correlationId, cancellationToken);
                added++;
            }
            else if (subscription.Status == SubscriptionStatus.Subscribed && isSuppressed)
            {
                if (subscription.MailServiceStatus == SubscriptionStatus.Unsubscribed)
                {
                    await SyncAsync(subscription, correlationId, cancellationToken);
                    removed++;
                }
                else
                {
                    await store.SetStatusAsync(subscription.SubjectRef, subscription.List, SubscriptionStatus.Unsubscribed, ConsentSources.Reconcile, null, cancellationToken);
                    await store.MarkMailServiceAsync(subscription.SubjectRef, subscription.List, SubscriptionStatus.Unsubscribed, cancellationToken);
                    unsubscribedThere++;
                }
            }
        }

        var report = new SuppressionReconcileReport(seen, added, removed, unsubscribedThere);
        logger.LogInformation("Newsletter reconcile: {Checked} checked, {Added} suppressions added, {Removed} removed, {Adopted} unsubscribed at the mail service",
            report.Checked, report.SuppressionsAdded, report.SuppressionsRemoved, report.UnsubscribedAtMailService);
        return report;
    }

    private int GroupOf(string list) =>
        options.Value.SuppressionGroups.TryGetValue(list, out var groupId)
            ? groupId
            : throw new InvalidOperationException($"Setting {NewsletterOptions.Section}:SuppressionGroups has no group for list '{list}'.");
}
