using Cafetalk.Integrations.Cli;

namespace Cafetalk.Integrations.IntegrationTests.Infrastructure;

/// <summary>Runs the CLI in-process as a user would, and hands its stdout and stderr to the log capture.</summary>
public static class CliRun
{
    public static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await CliApplication.RunAsync(args, stdout, stderr);
        var command = string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')));
        LogCapture.Record($"stdout of '{command}'", stdout.ToString());
        LogCapture.Record($"stderr of '{command}'", stderr.ToString());
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
