namespace Cafetalk.Integrations.Functions.Recordings;

/// <summary>Queue trigger on <c>zoom-events</c>: a finished Zoom recording goes to Vimeo (both consents) or is deleted.</summary>
public sealed class LessonRecordingFunction(RecordingEventsHandler handler)
{
    [Function(nameof(LessonRecordingFunction))]
    public Task Run([QueueTrigger(QueueNames.ZoomEvents, Connection = StorageAccount.SettingName)] string message, FunctionContext context, CancellationToken cancellationToken) =>
        handler.HandleAsync(message, context.QueueMessageId(), cancellationToken);
}
