using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Storage;
using Microsoft.Azure.Functions.Worker;

namespace Cafetalk.Integrations.Functions.Newsletter;

/// <summary>Subscriptions from the booking system, suppressions to the mail service, and the nightly reconcile.</summary>
public sealed class NewsletterQueueFunctions(NewsletterSubscriptions subscriptions, MailSuppressionSync sync)
{
    [Function(nameof(NewsletterSubscribed))]
    public async Task NewsletterSubscribed(
        [QueueTrigger(QueueNames.NewsletterEvents, Connection = StorageAccount.SettingName)] string message,
        FunctionContext context,
        CancellationToken cancellationToken) =>
        await subscriptions.HandleEventAsync(message, context.QueueMessageId(), cancellationToken);

    [Function(nameof(MailSuppression))]
    public async Task MailSuppression(
        [QueueTrigger(QueueNames.MailSuppressions, Connection = StorageAccount.SettingName)] string message,
        FunctionContext context,
        CancellationToken cancellationToken) =>
        await sync.HandleAsync(message, context.QueueMessageId(), cancellationToken);

    [Function(nameof(NewsletterReconcile))]
    public async Task NewsletterReconcile(
        [TimerTrigger("%NewsletterReconcileSchedule%")] TimerInfo timer,
        CancellationToken cancellationToken) =>
        await sync.ReconcileAsync(cancellationToken);
}
