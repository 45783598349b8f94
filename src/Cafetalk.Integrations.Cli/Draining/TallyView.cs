using Spectre.Console;

namespace Cafetalk.Integrations.Cli.Draining;

/// <summary>Prints a drain's counts and rejection reasons the same way in every command.</summary>
internal static class TallyView
{
    public static void Write(IAnsiConsole console, DrainTally tally)
    {
        var counts = new Table().Title("Events").AddColumns("received", "processed", "  applied", "  unchanged (redelivered or late)", "  forwarded (member events)", "rejected");
        counts.AddRow(
            tally.Received.ToString(), tally.Processed.ToString(), tally.Applied.ToString(), tally.Unchanged.ToString(),
            tally.Forwarded.ToString(), tally.Rejected.ToString());
        console.Write(counts);

        if (tally.Rejections.Count > 0)
        {
            var reasons = new Table().Title("Rejected, moved to booking-events-poison").AddColumns("reason", "count");
            foreach (var (reason, count) in tally.Rejections)
            {
                reasons.AddRow(Markup.Escape(reason), count.ToString());
            }

            console.Write(reasons);
        }

        if (tally.Failed > 0)
        {
            console.MarkupLine($"[yellow]{tally.Failed} message(s) failed on storage and stay queued for a retry.[/]");
        }
    }
}
