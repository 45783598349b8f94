namespace Cafetalk.Integrations.Functions.Newsletter;

/// <summary>Queue trigger on <c>mail-suppressions</c>: tells the mail service what one subscription now says.</summary>
public sealed class MailSuppressionFunction(MailSuppressionSync sync)
{
    [Function(nameof(MailSuppression))]
    public Task MailSuppression([QueueTrigger(QueueNames.MailSuppressions, Connection = StorageAccount.SettingName)] string message, FunctionContext context, CancellationToken cancellationToken) =>
        sync.HandleAsync(message, context.QueueMessageId(), cancellationToken);
}
