using System.CommandLine;
using System.Text.Json;
using Cafetalk.Integrations.Newsletter;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.Cli.Commands;

/// <summary><c>newsletter headers</c>: the List-Unsubscribe headers a sender puts on a member's mails.</summary>
internal static class NewsletterCommands
{
    public static Command Create(TextWriter stdout)
    {
        var storage = new CliStorage();
        var member = new Option<string>("--member") { Description = "The member id, as the booking system knows it.", Required = true, HelpName = "ID" };
        var list = new Option<string>("--list") { Description = "The newsletter list.", DefaultValueFactory = _ => "cafetalk-news", HelpName = "LIST" };
        var json = new Option<bool>("--json") { Description = "Print {\"List-Unsubscribe\",\"List-Unsubscribe-Post\"} as JSON." };
        var headers = new Command("headers", "Print the exact List-Unsubscribe and List-Unsubscribe-Post values (RFC 8058) for a member's mails.\n" +
            "Example: cafetalk-integrations newsletter headers --member stu_90311 --account cafetalkprod") { member, list, json };
        storage.AddTo(headers);
        headers.SetAction(async (parse, cancellationToken) =>
        {
            await using var services = CliHost.Build(storage.Settings(parse));
            ListUnsubscribeHeaders values;
            try
            {
                values = await services.GetRequiredService<NewsletterSubscriptions>().HeadersAsync(parse.GetValue(member)!, parse.GetValue(list)!, cancellationToken);
            }
            catch (NewsletterSubscriptionNotFoundException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}");
                return CliApplication.ExitFailed;
            }

            await stdout.WriteLineAsync(parse.GetValue(json)
                ? JsonSerializer.Serialize(new Dictionary<string, string> { ["List-Unsubscribe"] = values.ListUnsubscribe, ["List-Unsubscribe-Post"] = values.ListUnsubscribePost })
                : $"List-Unsubscribe: {values.ListUnsubscribe}\nList-Unsubscribe-Post: {values.ListUnsubscribePost}");
            return CliApplication.ExitOk;
        });
        return new Command("newsletter", "Newsletter operations.") { headers };
    }
}
