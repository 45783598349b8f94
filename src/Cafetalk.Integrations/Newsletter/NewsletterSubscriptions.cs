using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Newsletter;

/// <summary>The two headers a sender puts on every newsletter mail (RFC 2369 and RFC 8058).</summary>
public sealed record ListUnsubscribeHeaders(string ListUnsubscribe, string ListUnsubscribePost, string UnsubscribeUrl);

/// <summary>A member has no subscription to the list asked about.</summary>
public sealed class NewsletterSubscriptionNotFoundException(string list)
    : Exception($"The member has no subscription to list '{list}'.");

/// <summary>
/// Subscriptions from the booking system's <c>com.cafetalk.newsletter.subscribed</c> events, and the
/// List-Unsubscribe headers for each member. Members are known here by their ledger pseudonym only.
/// </summary>
public sealed class NewsletterSubscriptions(
    BookingEventParser parser,
    SubjectRegistry subjects,
    NewsletterSubscriptionStore store,
    UnsubscribeTokens tokens,
    UnsubscribeLinks links,
    QueueMessageRunner runner,
    StorageAccount storage,
    IOptions<NewsletterOptions> options,
    ILogger<NewsletterSubscriptions> logger)
{
    public const string OneClickPostValue = "List-Unsubscribe=One-Click";

    /// <summary>Handles one <c>newsletter-events</c> message: records the subscription and its consent.</summary>
    public Task<StatusChange?> HandleEventAsync(string message, string? messageId, CancellationToken cancellationToken = default) =>
        runner.RunAsync<MemberEvent, StatusChange?>(QueueNames.NewsletterEvents, message, messageId,
            text => parser.Parse(text).AsMemberEvent(EventTypes.NewsletterSubscribed, "not a newsletter subscription"), SubscribeAsync,
            cancellationToken: cancellationToken);

    private async Task<StatusChange?> SubscribeAsync(QueueMessage<MemberEvent> message, CancellationToken cancellationToken)
    {
        var (member, correlationId) = (message.Value, message.CorrelationId);
        if (await subjects.IsErasedAsync(member.MemberId, cancellationToken))
        {
            // A subscription for an erased member would bring their address back: dropped, nothing stored.
            logger.LogInformation("Newsletter subscription {CorrelationId} names an erased member: dropped", correlationId);
            return null;
        }

        var subjectRef = await subjects.GetOrCreateAsync(member.MemberId, cancellationToken);
        var change = await store.SubscribeAsync(member.MemberId, subjectRef, member.List!, member.Email!, member.Locale!, member.ConsentRecordId!, cancellationToken);
        if (change == StatusChange.Changed)
        {
            // A member who unsubscribed earlier and subscribed again on the site must leave the suppression group.
            await storage.Queue(QueueNames.MailSuppressions).SendMessageAsync(new MailSuppressionRequest(subjectRef, member.List!).ToJson(), cancellationToken);
        }

        logger.LogInformation("Newsletter subscription {CorrelationId} for list {List}: {Change}", correlationId, member.List, change);
        return change;
    }

    /// <summary>The exact header values for one member's mails on one list.</summary>
    public async Task<ListUnsubscribeHeaders> HeadersAsync(string memberId, string list, CancellationToken cancellationToken = default)
    {
        var subjectRef = await subjects.FindAsync(memberId, cancellationToken);
        if (subjectRef is null || await store.GetAsync(subjectRef, list, cancellationToken) is null)
        {
            throw new NewsletterSubscriptionNotFoundException(list);
        }

        var url = await UnsubscribeUrlAsync(subjectRef, list, cancellationToken);
        return new ListUnsubscribeHeaders($"<{url}>", OneClickPostValue, url.ToString());
    }

    /// <summary>The one-click URL: an https address that carries only the opaque token, itself only a random link id.</summary>
    private async Task<Uri> UnsubscribeUrlAsync(string subjectRef, string list, CancellationToken cancellationToken) =>
        new(options.Value.PublicBaseUrl, $"api/{NewsletterFlow.UnsubscribeRoute}?t={tokens.Issue(await links.GetOrCreateAsync(subjectRef, list, cancellationToken), list)}");
}
