using Cafetalk.Integrations.Sandbox.Contracts;
using Xunit.Abstractions;

namespace Cafetalk.Integrations.IntegrationTests.Security;

/// <summary>
/// The whole suite held to the providers' published contracts. <see cref="Infrastructure.LogCaptureTestFramework"/>
/// runs this class after every other one except the log scan, in the same process, so it reads every contract
/// violation any simulator saw (<see cref="ContractViolations"/>): each was answered 400 and recorded. Run alone or
/// on a filtered subset it fails, since a provider with a contract file was then never checked.
/// </summary>
[Collection(CollectionName)]
[Trait("Category", "ContractScan")]
public sealed class ContractScanTests(ITestOutputHelper output)
{
    public const string CollectionName = "Contract scan (runs after every other test class but the log scan)";

    [Fact]
    public void WholeSuite_SentNothingOutsideTheProvidersContracts()
    {
        var violations = ContractViolations.All();
        var checkedCounts = ContractViolations.CheckedByProvider();
        var summary = $"contract scan: {string.Join(", ", ProviderContract.Available().Select(p => $"{p} {checkedCounts.GetValueOrDefault(p)} requests"))}; {violations.Count} violations";
        output.WriteLine(summary);

        var problems = violations
            .GroupBy(v => v.Violation.ToString(), StringComparer.Ordinal)
            .Select(g => $"  {g.Key} ({g.Count()}x)")
            .Take(100)
            .ToList();
        problems.AddRange(ProviderContract.Available().Where(p => checkedCounts.GetValueOrDefault(p) == 0)
            .Select(p => $"  {p} has a contract file but no request was checked against it: run the whole suite (./test.sh)"));

        Assert.True(problems.Count == 0, summary + Environment.NewLine + string.Join(Environment.NewLine, problems));
    }
}
