namespace Cafetalk.Integrations.Functions.Erasure;

/// <summary>Queue trigger on <c>erasure-requests</c>: erases the member at every provider (the host retries while one fails).</summary>
public sealed class MemberErasureRequestedFunction(ErasureRequests requests)
{
    [Function(nameof(MemberErasureRequested))]
    public Task MemberErasureRequested([QueueTrigger(QueueNames.ErasureRequests, Connection = StorageAccount.SettingName)] string message, FunctionContext context, CancellationToken cancellationToken) =>
        requests.HandleAsync(message, context.QueueMessageId(), cancellationToken);
}
