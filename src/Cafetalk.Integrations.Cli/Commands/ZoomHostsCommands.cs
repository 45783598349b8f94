using System.CommandLine;
using System.Text.Json;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Cli.Commands;

/// <summary><c>zoom-hosts add|list</c>: the pool of Zoom hosts for lecturers without their own Zoom user (table <c>ZoomHostPool</c>).</summary>
internal static class ZoomHostsCommands
{
    public static Command Create(TextWriter stdout)
    {
        var command = new Command("zoom-hosts", "The pool of Zoom users that host lessons of lecturers without their own (table ZoomHostPool).\n" +
            "Example: cafetalk-integrations zoom-hosts add --host KdYKjnimT4KPd8FFgQt9FQ --concurrency 2 --account cafetalkprod");
        command.Subcommands.Add(Add(stdout));
        command.Subcommands.Add(List(stdout));
        return command;
    }

    private static Command Add(TextWriter stdout)
    {
        var storage = new CliStorage();
        var host = new Option<string>("--host") { Description = "The Zoom user id of the pool host (never an email).", HelpName = "ZOOM_USER_ID", Required = true };
        host.Validators.Add(r =>
        {
            if (!TableKeys.IsValidId(r.GetValueOrDefault<string>()))
            {
                r.AddError("--host must be a Zoom user id: 1-64 characters of A-Z a-z 0-9 _ . - (never an email).");
            }
        });
        var concurrency = CliOptions.WholeNumber("--concurrency", "Meetings the host may run at once: 1 (Pro) or 2 (Business, Education, Enterprise).", 1, ZoomPoolHost.MaxConcurrency, defaultValue: 1);
        var dailyLimit = CliOptions.WholeNumber("--daily-limit", "Its meeting creates/updates per UTC day (default: Zoom__DailyCreateUpdateLimitPerHost, 100); less when other apps share the user.", 1, 10_000);
        var command = new Command("add", "Add a Zoom user to the host pool, or change its concurrency or daily limit.\n" +
            "Example: cafetalk-integrations zoom-hosts add --host KdYKjnimT4KPd8FFgQt9FQ --concurrency 2 --account cafetalkprod") { host, concurrency, dailyLimit };
        storage.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var pool = Pool(storage, parse);
            var limit = parse.GetResult(dailyLimit) is { Implicit: false } ? parse.GetValue(dailyLimit) : (int?)null;
            await pool.Storage.EnsureProvisionedAsync(cancellationToken);
            await pool.Hosts.AddAsync(parse.GetValue(host)!, parse.GetValue(concurrency), limit, cancellationToken);
            await stdout.WriteLineAsync($"pool host {parse.GetValue(host)} added: concurrency {parse.GetValue(concurrency)}, daily limit {limit?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "default"}");
            return CliApplication.ExitOk;
        });
        return command;
    }

    private static Command List(TextWriter stdout)
    {
        var storage = new CliStorage();
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var command = new Command("list", "List the host pool: each Zoom user id, its concurrency and its daily create/update limit.\n" +
            "Example: cafetalk-integrations zoom-hosts list --json --account cafetalkprod") { json };
        storage.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var pool = Pool(storage, parse);
            await pool.Storage.EnsureProvisionedAsync(cancellationToken);
            var hosts = await pool.Hosts.ListAsync(cancellationToken);
            if (parse.GetValue(json))
            {
                await stdout.WriteLineAsync(JsonSerializer.Serialize(hosts.Select(h => new { hostId = h.HostId, concurrency = h.Concurrency, dailyCreateUpdateLimit = h.DailyCreateUpdateLimit })));
                return CliApplication.ExitOk;
            }

            await stdout.WriteLineAsync(hosts.Count == 0 ? "the pool is empty: lessons of lecturers without their own Zoom user go on Zoom__DefaultHostUserId" : "host\tconcurrency\tdaily limit");
            foreach (var h in hosts)
            {
                await stdout.WriteLineAsync($"{h.HostId}\t{h.Concurrency}\t{h.DailyCreateUpdateLimit}");
            }

            return CliApplication.ExitOk;
        });
        return command;
    }

    /// <summary>The pool table alone: no Zoom credentials needed, only storage and the optional daily limit setting.</summary>
    private static (StorageAccount Storage, ZoomHostPool Hosts) Pool(CliStorage storage, ParseResult parse)
    {
        var settings = new ConfigurationBuilder().AddEnvironmentVariables().AddInMemoryCollection(storage.Settings(parse)).Build();
        var zoom = new ZoomOptions();
        if (int.TryParse(settings[$"{ZoomOptions.SectionName}:{nameof(ZoomOptions.DailyCreateUpdateLimitPerHost)}"], System.Globalization.CultureInfo.InvariantCulture, out var limit) && limit > 0)
        {
            zoom.DailyCreateUpdateLimitPerHost = limit;
        }

        var account = StorageAccount.FromConfiguration(settings);
        return (account, new ZoomHostPool(account, Options.Create(zoom), TimeProvider.System));
    }
}
