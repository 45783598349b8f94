using Azure.Core;
using Azure.Core.Pipeline;

namespace Cafetalk.Integrations.Storage;

/// <summary>
/// A storage pipeline policy that looks at each request before it is sent (the bench counts them; tests count or fail
/// them by throwing), sync and async alike; the subclass says only what it does with one request.
/// </summary>
public abstract class RequestObserver : HttpPipelinePolicy
{
    /// <summary>Sees <paramref name="message"/> before it goes on; a throw stops it there, as a failed request.</summary>
    protected abstract void Observe(HttpMessage message);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Observe(message);
        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Observe(message);
        return ProcessNextAsync(message, pipeline);
    }
}
