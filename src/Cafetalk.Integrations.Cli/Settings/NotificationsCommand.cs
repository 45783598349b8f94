using System.CommandLine;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Sandbox;

namespace Cafetalk.Integrations.Cli.Settings;

/// <summary><c>notifications table</c>: the outbound contract of docs/site-notifications.md, generated from its types.</summary>
internal static class NotificationsCommand
{
    public static Command Create(TextWriter stdout)
    {
        var write = new Option<bool>("--write-docs") { Description = $"Write the reference into {SiteNotificationsDocument.DocumentPath} between the site-notifications markers instead of printing it." };
        var table = new Command("table", "Render every site-notifications type (fields, schema, an example) as markdown.\n" +
            "Example: cafetalk-integrations notifications table --write-docs") { write };
        table.SetAction(async (parse, cancellationToken) =>
        {
            var section = SiteNotificationsDocument.ToMarkdown();
            if (!parse.GetValue(write))
            {
                await stdout.WriteAsync(section);
                return CliApplication.ExitOk;
            }

            var path = Path.Combine(RepositoryRoot.Find(), SiteNotificationsDocument.DocumentPath);
            var text = await File.ReadAllTextAsync(path, cancellationToken);
            await File.WriteAllTextAsync(path, SiteNotificationsDocument.ReplaceSection(text, section), cancellationToken);
            await stdout.WriteLineAsync($"wrote the site-notifications reference to {path}");
            return CliApplication.ExitOk;
        });
        var notifications = new Command("notifications", "The outbound contract on queue site-notifications.");
        notifications.Subcommands.Add(table);
        return notifications;
    }
}
