namespace Cafetalk.Integrations.Sandbox.Contracts;

/// <summary>Checks wire-log lines (<c>--wire-log</c>) against the providers' contracts, line by line.</summary>
public static class WireLogContracts
{
    /// <summary>The wire log's provider names that differ from their contract's.</summary>
    private static readonly Dictionary<string, string> ContractNames = new(StringComparer.Ordinal) { ["mail"] = "sendgrid" };

    /// <summary>The contract a wire-log provider name is held to (mail → sendgrid).</summary>
    public static string ContractNameOf(string wireProvider) => ContractNames.GetValueOrDefault(wireProvider, wireProvider);

    /// <summary>Every violation in <paramref name="lines"/>, and how many lines each contract checked (providers without a contract are skipped).</summary>
    public static (IReadOnlyList<ContractViolation> Violations, IReadOnlyDictionary<string, int> Checked) Check(IEnumerable<WireRequest> lines)
    {
        var violations = new List<ContractViolation>();
        var checkedCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var provider = ContractNameOf(line.Provider);
            if (ProviderContract.For(provider) is not { } contract)
            {
                continue;
            }

            checkedCounts[provider] = checkedCounts.GetValueOrDefault(provider) + 1;
            violations.AddRange(contract.Validate(new ContractRequest(line.Method, line.Path, line.Query, line.ContentType, line.Body, line.HeaderNames, line.AuthScheme)));
        }

        return (violations, checkedCounts);
    }
}
