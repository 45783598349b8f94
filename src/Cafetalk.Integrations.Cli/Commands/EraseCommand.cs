using System.CommandLine;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Erasure;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.Cli.Commands;

/// <summary><c>erase --member ID</c>: erases what was shared about a member and prints the receipt.</summary>
internal static class EraseCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var storage = new CliStorage();
        var member = new Option<string>("--member") { Description = "The member id, as the booking system knows it.", Required = true, HelpName = "ID" };
        var requestId = new Option<string>("--request-id") { Description = "The privacy office's reference for this request.", HelpName = "ID" };
        var command = new Command("erase", "Erase what was shared about a member with every provider, then unlink their ledger rows; prints the receipt (JSON).\n" +
            "A second run for the same member returns the same receipt. Exit 1 while a provider step is still pending.\n" +
            "Example: cafetalk-integrations erase --member stu_77120 --request-id era_2027_0012 --account cafetalkprod") { member, requestId };
        storage.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var services = CliHost.Build(storage.Settings(parse));
            var memberId = parse.GetValue(member)!;
            var erasure = services.GetRequiredService<MemberErasure>();
            try
            {
                var receipt = await erasure.EraseAsync(memberId, parse.GetValue(requestId) ?? $"cli-{TimeProvider.System.GetUtcNow():yyyyMMddHHmmss}", cancellationToken);
                await stdout.WriteLineAsync(receipt.ToJson());
                return CliApplication.ExitOk;
            }
            catch (ErasureIncompleteException ex)
            {
                var pending = await services.GetRequiredService<ErasureReceipts>().FindAsync(memberId, cancellationToken);
                await stdout.WriteLineAsync(pending?.ToJson());
                await stderr.WriteLineAsync($"error: {ex.Message}");
                return CliApplication.ExitFailed;
            }
        });
        return command;
    }
}
