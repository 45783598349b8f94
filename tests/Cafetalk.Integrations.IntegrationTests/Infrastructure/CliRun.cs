using Cafetalk.Integrations.Cli;

namespace Cafetalk.Integrations.IntegrationTests.Infrastructure;

/// <summary>Runs the CLI in-process as a user would, and hands its stdout and stderr to the log capture.</summary>
public static class CliRun
{
    public static Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) => RunAtAsync(null, args);

    /// <summary>Runs the CLI with its services on <paramref name="time"/> (null: the system clock), as on the clock a test signed its digests on.</summary>
    public static async Task<(int Exit, string Out, string Err)> RunAtAsync(TimeProvider? time, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await CliApplication.RunAsync(args, stdout, stderr, time);
        var command = string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')));
        LogCapture.Record($"stdout of '{command}'", stdout.ToString());
        LogCapture.Record($"stderr of '{command}'", stderr.ToString());
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
