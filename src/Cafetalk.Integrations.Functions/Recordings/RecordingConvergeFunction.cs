namespace Cafetalk.Integrations.Functions.Recordings;

/// <summary>Queue trigger on <c>recording-converge</c>: a cancelled booking's Vimeo recording is deleted.</summary>
public sealed class RecordingConvergeFunction(RecordingConvergeHandler handler)
{
    [Function(nameof(RecordingConvergeFunction))]
    public Task Run([QueueTrigger(QueueNames.RecordingConverge, Connection = StorageAccount.SettingName)] string message, FunctionContext context, CancellationToken cancellationToken) =>
        handler.HandleAsync(message, context.QueueMessageId(), cancellationToken);
}
