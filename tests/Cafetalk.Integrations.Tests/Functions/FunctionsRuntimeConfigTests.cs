using System.Text.Json.Nodes;

namespace Cafetalk.Integrations.Tests.Functions;

/// <summary>
/// The runtime settings Azure runs the worker with are those in the Functions app's runtimeconfig.json; the recording
/// bench runs its worker with this same file, so its memory figure holds only while these stay.
/// </summary>
public sealed class FunctionsRuntimeConfigTests
{
    private static JsonNode ConfigProperties()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Cafetalk.Integrations.Functions.runtimeconfig.json");
        return JsonNode.Parse(File.ReadAllText(path))!["runtimeOptions"]!["configProperties"]!;
    }

    [Fact]
    public void Worker_RunsServerGcWithDynamicAdaptation()
    {
        var properties = ConfigProperties();

        Assert.True(properties["System.GC.Server"]!.GetValue<bool>());
        Assert.Equal(1, properties["System.GC.DynamicAdaptationMode"]!.GetValue<int>());
    }

    [Fact]
    public void Worker_LoadsNoCultureData()
    {
        Assert.True(ConfigProperties()["System.Globalization.Invariant"]!.GetValue<bool>());
    }
}
