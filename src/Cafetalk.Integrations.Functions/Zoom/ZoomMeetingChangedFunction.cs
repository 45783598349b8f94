namespace Cafetalk.Integrations.Functions.Zoom;

/// <summary>Queue trigger on <c>zoom-meeting-changes</c>: a meeting of ours deleted or moved in Zoom is put back.</summary>
public sealed class ZoomMeetingChangedFunction(ZoomMeetingChanges changes)
{
    [Function(nameof(ZoomMeetingChangedFunction))]
    public Task Run([QueueTrigger(QueueNames.ZoomMeetingChanges, Connection = StorageAccount.SettingName)] string message, FunctionContext context, CancellationToken cancellationToken) =>
        changes.HandleAsync(message, context.QueueMessageId(), cancellationToken);
}
