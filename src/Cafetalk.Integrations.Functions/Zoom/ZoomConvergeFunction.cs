namespace Cafetalk.Integrations.Functions.Zoom;

/// <summary>Queue trigger on <c>zoom-converge</c>: makes one booking's Zoom meeting match its desired state.</summary>
public sealed class ZoomConvergeFunction(ZoomConvergeHandler handler)
{
    [Function(nameof(ZoomConvergeFunction))]
    public Task Run([QueueTrigger(QueueNames.ZoomConverge, Connection = StorageAccount.SettingName)] string message, FunctionContext context, CancellationToken cancellationToken) =>
        handler.HandleAsync(message, context.QueueMessageId(), cancellationToken);
}
