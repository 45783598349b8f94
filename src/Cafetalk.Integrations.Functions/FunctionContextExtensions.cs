namespace Cafetalk.Integrations.Functions;

/// <summary>What queue-triggered functions read from their context.</summary>
internal static class FunctionContextExtensions
{
    /// <summary>The queue message id, used as the correlation id when the message carries none of its own.</summary>
    public static string? QueueMessageId(this FunctionContext context) =>
        context.BindingContext.BindingData.TryGetValue("Id", out var id) ? id?.ToString() : null;
}
