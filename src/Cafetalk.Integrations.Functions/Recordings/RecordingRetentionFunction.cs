namespace Cafetalk.Integrations.Functions.Recordings;

/// <summary>Timer (<c>%VimeoRetentionSchedule%</c>, nightly): deletes Vimeo recordings past retention or left on cancelled bookings.</summary>
public sealed class RecordingRetentionFunction(RecordingDeleter deleter)
{
    [Function(nameof(RecordingRetentionFunction))]
    public async Task Run([TimerTrigger("%VimeoRetentionSchedule%")] TimerInfo timer, FunctionContext context, CancellationToken cancellationToken) =>
        await deleter.SweepAsync(context.InvocationId, cancellationToken);
}
