using System.Collections.Immutable;
using Microsoft.Azure.Functions.Worker;

namespace Cafetalk.Integrations.Cli.Serving;

/// <summary>The few parts of a FunctionContext our queue functions read: the services and the trigger's binding data.</summary>
internal sealed class LocalFunctionContext(IServiceProvider services, string functionName, IReadOnlyDictionary<string, object?> bindingData) : FunctionContext
{
    public override string InvocationId { get; } = Guid.NewGuid().ToString("N");
    public override string FunctionId => functionName;
    public override TraceContext TraceContext => throw new NotSupportedException("The local pump has no trace context.");
    public override BindingContext BindingContext { get; } = new LocalBindingContext(bindingData);
    public override RetryContext RetryContext => throw new NotSupportedException("The local pump has no retry context.");
    public override IServiceProvider InstanceServices { get; set; } = services;
    public override FunctionDefinition FunctionDefinition => throw new NotSupportedException("The local pump has no function definition.");
    public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object>();
    public override Microsoft.Azure.Functions.Worker.IInvocationFeatures Features => throw new NotSupportedException("The local pump has no invocation features.");

    private sealed class LocalBindingContext(IReadOnlyDictionary<string, object?> data) : BindingContext
    {
        public override IReadOnlyDictionary<string, object?> BindingData => data;
    }
}
