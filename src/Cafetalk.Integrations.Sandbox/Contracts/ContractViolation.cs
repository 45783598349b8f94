namespace Cafetalk.Integrations.Sandbox.Contracts;

/// <summary>One way a request broke a provider's contract: provider, operation (or its method and path shape) and the field, never a value.</summary>
public sealed record ContractViolation(string Provider, string Operation, string Problem)
{
    public override string ToString() => $"{Provider} {Operation}: {Problem}";
}
