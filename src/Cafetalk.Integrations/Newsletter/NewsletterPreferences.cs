using System.Text;
using System.Text.Json;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Newsletter;

/// <summary>The result of a member's action through an unsubscribe link.</summary>
public sealed record PreferenceResult(bool ValidLink, StatusChange Change, NewsletterSubscription? Subscription);

/// <summary>A message on <c>mail-suppressions</c>: which subscription the mail service must be brought in line with.</summary>
public sealed record MailSuppressionRequest(string SubjectRef, string List)
{
    public string ToJson() => JsonSerializer.Serialize(this, JsonSerializerOptions.Web);

    /// <summary>The request as <c>mail-suppressions</c> reads it: refused unless <see cref="TryParse"/> reads it.</summary>
    public static QueueMessageReading<MailSuppressionRequest> Read(string text) => TryParse(text) is { } request
        ? QueueMessageReading.Read(request)
        : QueueMessageReading.Refused<MailSuppressionRequest>(RejectionReasons.InvalidField, "message is not {subjectRef, list}");

    /// <summary>The request, or null unless it names a pseudonym and a list id (both are table keys: "sub-0/0" would make the read fail and be retried).</summary>
    public static MailSuppressionRequest? TryParse(string text)
    {
        try
        {
            // Read as the UTF-8 a queue delivers, so text no encoder accepts is refused rather than thrown on.
            return JsonSerializer.Deserialize<MailSuppressionRequest>(Encoding.UTF8.GetBytes(text), JsonSerializerOptions.Web) is { } request
                && SubjectRegistry.IsSubjectRef(request.SubjectRef) && TableKeys.IsValidId(request.List)
                ? request
                : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}

/// <summary>
/// Unsubscribe and resubscribe by token (policy §4-⑥ and §10). A change is committed with its consent-history
/// entry, then the mail service is told through <c>mail-suppressions</c>; the nightly reconcile repairs a lost notice.
/// </summary>
public sealed class NewsletterPreferences(
    UnsubscribeTokens tokens,
    UnsubscribeLinks links,
    NewsletterSubscriptionStore store,
    StorageAccount storage,
    ILogger<NewsletterPreferences> logger)
{
    /// <summary>Reads the subscription a link points at; changes nothing.</summary>
    public async Task<PreferenceResult> ViewAsync(string? token, CancellationToken cancellationToken = default)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        if (await ResolveAsync(token, cancellationToken) is not { } target)
        {
            return new PreferenceResult(false, StatusChange.NotFound, null);
        }

        var subscription = await store.GetAsync(target.SubjectRef, target.List, cancellationToken);
        return new PreferenceResult(subscription is not null, StatusChange.AlreadyThere, subscription);
    }

    public Task<PreferenceResult> UnsubscribeAsync(string? token, string source, CancellationToken cancellationToken = default) =>
        SetAsync(token, SubscriptionStatus.Unsubscribed, source, cancellationToken);

    public Task<PreferenceResult> ResubscribeAsync(string? token, CancellationToken cancellationToken = default) =>
        SetAsync(token, SubscriptionStatus.Subscribed, ConsentSources.Resubscribe, cancellationToken);

    private async Task<PreferenceResult> SetAsync(string? token, SubscriptionStatus status, string source, CancellationToken cancellationToken)
    {
        await storage.EnsureProvisionedAsync(cancellationToken);
        if (await ResolveAsync(token, cancellationToken) is not { } target)
        {
            logger.LogWarning("Newsletter {Action} refused: the token did not verify or its link was erased", status);
            return new PreferenceResult(false, StatusChange.NotFound, null);
        }

        var (change, subscription) = await store.SetStatusAsync(target.SubjectRef, target.List, status, source, target.TokenId, cancellationToken);
        if (change == StatusChange.NotFound)
        {
            logger.LogWarning("Newsletter {Action} for token {TokenId}: no such subscription (erased?)", status, target.TokenId);
            return new PreferenceResult(false, change, null);
        }

        if (change == StatusChange.Changed)
        {
            await storage.Queue(QueueNames.MailSuppressions).SendMessageAsync(new MailSuppressionRequest(target.SubjectRef, target.List).ToJson(), cancellationToken);
        }

        logger.LogInformation("Newsletter {Action} via {Source} for token {TokenId} on list {List}: {Change}", status, source, target.TokenId, target.List, change);
        return new PreferenceResult(true, change, subscription);
    }

    /// <summary>
    /// The subscription a genuine token acts on. New tokens carry a link id, resolved in <see cref="UnsubscribeLinks"/>;
    /// tokens mailed before carry the pseudonym and keep working, so no unsubscribe link already sent breaks (特定電子メール法
    /// Art. 3-2), until erasure deletes the subscription they name.
    /// </summary>
    private async Task<(string SubjectRef, string List, string TokenId)?> ResolveAsync(string? token, CancellationToken cancellationToken)
    {
        if (tokens.Verify(token) is not { } target)
        {
            return null;
        }

        if (SubjectRegistry.IsSubjectRef(target.Reference))
        {
            return (target.Reference, target.List, target.TokenId);
        }

        return await links.ResolveAsync(target.Reference, cancellationToken) is { } link && link.List == target.List
            ? (link.SubjectRef, link.List, target.TokenId)
            : null;
    }
}
