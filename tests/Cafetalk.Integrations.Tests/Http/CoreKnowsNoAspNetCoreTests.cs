using Cafetalk.Integrations.Http;

namespace Cafetalk.Integrations.Tests.Http;

/// <summary>The core's flows answer with <see cref="FlowOutcome"/>s; HTTP lives in Cafetalk.Integrations.Web, and the core must not drift back.</summary>
public sealed class CoreKnowsNoAspNetCoreTests
{
    [Fact]
    public void CoreAssembly_ReferencesNoAspNetCoreAssembly()
    {
        var aspNet = typeof(FlowOutcome).Assembly.GetReferencedAssemblies()
            .Select(a => a.Name!)
            .Where(name => name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) || name == "Microsoft.Net.Http.Headers")
            .ToList();

        Assert.Empty(aspNet);
    }
}
