using System.CommandLine;
using System.Text.Json;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Operations;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.Cli.Commands;

/// <summary><c>sync</c>: run every nightly job once, now.</summary>
internal static class SyncCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var storage = new CliStorage();
        var command = new Command("sync", "Run the nightly jobs once, now: Zoom drift repair over upcoming bookings, the Google Calendar sync, recording retention,\n" +
            "the newsletter reconcile, pending erasures and the ledger digest. Prints a JSON report.\n" +
            "Example: cafetalk-integrations sync --account cafetalkprod");
        storage.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var services = CliHost.Build(storage.Settings(parse));
            var report = await services.GetRequiredService<NightlyJobs>().RunAsync(cancellationToken);
            await stdout.WriteLineAsync(JsonSerializer.Serialize(report, JsonSerializerOptions.Web));
            if (report.ZoomFailed > 0 || report.CalendarFailed > 0)
            {
                // The other jobs ran; a non-zero exit still tells a scheduler that a provider is not converged.
                await stderr.WriteLineAsync($"error: {report.ZoomFailed} Zoom repair(s) and {report.CalendarFailed} lecturer calendar sync(s) failed; the log names each, and the next run tries again.");
                return CliApplication.ExitFailed;
            }

            return CliApplication.ExitOk;
        });
        return command;
    }
}
