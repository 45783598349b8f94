namespace Cafetalk.Integrations.Functions.Newsletter;

/// <summary>Timer (<c>%NewsletterReconcileSchedule%</c>, nightly): repairs drift between our subscriptions and the mail service's suppressions.</summary>
public sealed class NewsletterReconcileFunction(MailSuppressionSync sync)
{
    [Function(nameof(NewsletterReconcile))]
    public async Task NewsletterReconcile([TimerTrigger("%NewsletterReconcileSchedule%")] TimerInfo timer, CancellationToken cancellationToken) =>
        await sync.ReconcileAsync(cancellationToken);
}
