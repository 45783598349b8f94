using System.CommandLine;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Cli.Commands;

/// <summary>Google Calendar operator commands: <c>connect-link</c>.</summary>
internal static class CalendarCommands
{
    public static Command ConnectLink(TextWriter stdout, IConfiguration? environment = null)
    {
        var lecturer = new Option<string>("--lecturer") { Description = "The lecturer's id.", HelpName = "ID", Required = true };
        lecturer.Validators.Add(r =>
        {
            if (!TableKeys.IsValidId(r.GetValueOrDefault<string>()))
            {
                r.AddError("--lecturer must be 1-64 characters of A-Z a-z 0-9 _ . - starting with a letter or digit.");
            }
        });
        var baseUrl = new Option<string>("--base-url") { Description = "The app's public base URL (default: taken from the GoogleCalendar__RedirectUri setting).", HelpName = "URL" };
        var keyId = new Option<string>("--key-id") { Description = "Ticket key id (default: GoogleCalendar__CurrentTicketKeyId).", HelpName = "ID" };
        var key = new Option<string>("--key") { Description = "Ticket HMAC key, base64 of at least 32 bytes (default: GoogleCalendar__TicketKeys__{key id}).", HelpName = "BASE64" };
        var minutes = CliOptions.WholeNumber("--minutes", "How long the link stays valid.", 1, 60, defaultValue: 10);
        var settingsFile = CliSettingsFile.CreateOption();
        var command = new Command("connect-link", "Print a signed, short-lived link that starts a lecturer's Google Calendar connection, as the Cafetalk site issues them.\n" +
            "Example: cafetalk-integrations connect-link --lecturer lec_123 --base-url https://integrations.cafetalk.com/") { lecturer, baseUrl, keyId, key, minutes, settingsFile };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = environment ?? new ConfigurationBuilder().AddEnvironmentVariables().Build();
            if (parse.GetValue(settingsFile) is { } file)
            {
                settings = new ConfigurationBuilder().AddConfiguration(settings).AddInMemoryCollection(CliSettingsFile.Read(file)).Build();
            }

            var id = parse.GetValue(keyId) ?? settings[$"{GoogleCalendarOptions.SectionName}:CurrentTicketKeyId"];
            var secret = parse.GetValue(key) ?? (id is null ? null : settings[$"{GoogleCalendarOptions.SectionName}:TicketKeys:{id}"]);
            var root = parse.GetValue(baseUrl) is { } given ? (Uri.TryCreate(given, UriKind.Absolute, out var parsed) ? parsed : null) : (Uri.TryCreate(settings[$"{GoogleCalendarOptions.SectionName}:RedirectUri"], UriKind.Absolute, out var redirect) ? new Uri(redirect, "/") : null);
            var error = id is null || !KeyRing.IsValidKeyId(id) ? "no ticket key id: pass --key-id or set GoogleCalendar__CurrentTicketKeyId"
                : KeyRing.UsableKey(secret) is null ? "no usable ticket key: pass --key or set GoogleCalendar__TicketKeys__{key id} (base64 of at least 32 bytes)"
                : root is null || !root.IsAbsoluteUri ? "no base URL: pass an absolute --base-url or set GoogleCalendar__RedirectUri"
                : null;
            if (error is not null)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"error: {error}");
                return CliApplication.ExitBadArguments;
            }

            var options = Options.Create(new GoogleCalendarOptions { CurrentTicketKeyId = id!, TicketKeys = { [id!] = secret! } });
            var ticket = new ConnectTickets(options, TimeProvider.System).Issue(parse.GetValue(lecturer)!, TimeSpan.FromMinutes(parse.GetValue(minutes)));
            var link = new Uri(root!, $"api/{CalendarConnectFlow.ConnectRoute}?ticket={Uri.EscapeDataString(ticket)}");
            await stdout.WriteLineAsync(link.ToString());
            return CliApplication.ExitOk;
        });
        return command;
    }
}
