namespace Cafetalk.Integrations.Telemetry;

/// <summary>The one meter every counter and histogram of the pipeline is created on, so one listener exports them all.</summary>
public static class PipelineMeter
{
    public const string Name = "Cafetalk.Integrations";
}
