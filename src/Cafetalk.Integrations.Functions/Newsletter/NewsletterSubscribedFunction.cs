namespace Cafetalk.Integrations.Functions.Newsletter;

/// <summary>Queue trigger on <c>newsletter-events</c>: records a subscription from the booking system, with its consent.</summary>
public sealed class NewsletterSubscribedFunction(NewsletterSubscriptions subscriptions)
{
    [Function(nameof(NewsletterSubscribed))]
    public Task NewsletterSubscribed([QueueTrigger(QueueNames.NewsletterEvents, Connection = StorageAccount.SettingName)] string message, FunctionContext context, CancellationToken cancellationToken) =>
        subscriptions.HandleEventAsync(message, context.QueueMessageId(), cancellationToken);
}
