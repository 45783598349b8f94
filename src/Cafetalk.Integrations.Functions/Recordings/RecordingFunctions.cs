using Cafetalk.Integrations.Recordings;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Vimeo;
using Microsoft.Azure.Functions.Worker;

namespace Cafetalk.Integrations.Functions.Recordings;

/// <summary>Queue trigger on <c>zoom-events</c>: a finished Zoom recording goes to Vimeo (both consents) or is deleted.</summary>
public sealed class LessonRecordingFunction(RecordingEventsHandler handler)
{
    [Function(nameof(LessonRecordingFunction))]
    public async Task Run(
        [QueueTrigger(QueueNames.ZoomEvents, Connection = StorageAccount.SettingName)] string message,
        FunctionContext context,
        CancellationToken cancellationToken) =>
        await handler.HandleAsync(message, context.QueueMessageId(), cancellationToken);
}

/// <summary>Queue trigger on <c>recording-converge</c>: a cancelled booking's Vimeo recording is deleted.</summary>
public sealed class RecordingConvergeFunction(RecordingConvergeHandler handler)
{
    [Function(nameof(RecordingConvergeFunction))]
    public async Task Run(
        [QueueTrigger(QueueNames.RecordingConverge, Connection = StorageAccount.SettingName)] string message,
        FunctionContext context,
        CancellationToken cancellationToken) =>
        await handler.HandleAsync(message, context.QueueMessageId(), cancellationToken);
}

/// <summary>Timer (<c>%VimeoRetentionSchedule%</c>, nightly): deletes Vimeo recordings past retention or left on cancelled bookings.</summary>
public sealed class RecordingRetentionFunction(RecordingDeleter deleter)
{
    [Function(nameof(RecordingRetentionFunction))]
    public async Task Run([TimerTrigger("%VimeoRetentionSchedule%")] TimerInfo timer, FunctionContext context, CancellationToken cancellationToken) =>
        await deleter.SweepAsync(context.InvocationId, cancellationToken);
}
