using System.CommandLine;
using System.Security.Cryptography;
using BookingEventParser = Cafetalk.Integrations.Bookings.BookingEventParser;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.Cli.Ledger;

/// <summary>
/// <c>ledger verify|export|digest|purge</c> against the storage named by <c>AzureWebJobsStorage</c> (or
/// <c>--connection-string</c>), and <c>policy table</c>, which renders the disclosure policy for docs/privacy.md.
/// </summary>
internal static class LedgerCommands
{
    /// <param name="time">The clock the commands' services use; null: the system's (tests pass the clock their digests were signed on).</param>
    public static void AddTo(RootCommand root, TextWriter stdout, TimeProvider? time = null)
    {
        root.Subcommands.Add(LedgerCommand(stdout, time));
        root.Subcommands.Add(PolicyCommand(stdout));
    }

    private static Command LedgerCommand(TextWriter stdout, TimeProvider? time)
    {
        var ledger = new Command("ledger", "The disclosure ledger: verify its hash chains against the signed digests, export a member's disclosures, write a signed digest.");
        ledger.Subcommands.Add(VerifyCommand(stdout, time));
        ledger.Subcommands.Add(ExportCommand(stdout, time));
        ledger.Subcommands.Add(DigestCommand(stdout, time));
        ledger.Subcommands.Add(PurgeCommand(stdout, time));
        ledger.Subcommands.Add(UnsealCommand(stdout, time));
        ledger.Subcommands.Add(CommitSubjectsCommand(stdout, time));
        return ledger;
    }

    private static Option<string> ConnectionStringOption() => new("--connection-string")
    {
        Description = $"Storage connection string; defaults to the {StorageAccount.SettingName} environment variable.",
        HelpName = "CONNECTION",
    };

    private static Command VerifyCommand(TextWriter stdout, TimeProvider? time)
    {
        var connection = ConnectionStringOption();
        var settings = CliSettingsFile.CreateOption();
        var command = new Command("verify", "Recompute every chain and check it against every signed digest line; names each edited, deleted or reordered row, each row or chain a digest recorded that is gone or differs, each purge anchor no digest vouches for, each unsigned or badly signed digest line, a newest signed line older than Ledger__DigestMaxAge (45 minutes), and log blobs gone while their head lists remain. " +
            $"With {MemberKeySetting} set, also checks every member's mapping to its chain against its keyed commitment and that every chain has a mapping or an erasure marker. " +
            $"Exit 1 on any finding; exit {ExitMappingsUnchecked} when the chains are intact but the mappings could not be checked (no member key).\n" +
            "Example: cafetalk-integrations ledger verify") { connection, settings };
        command.SetAction((parse, cancellationToken) => WithServicesAsync(parse, connection, settings, time, async services =>
        {
            var result = await services.GetRequiredService<LedgerVerifier>().VerifyAsync(cancellationToken);
            var mappings = MappingVerifier(services) is { } mappingVerifier ? await mappingVerifier.VerifyAsync(result.Heads, cancellationToken) : null;
            await WriteFindingsAsync(stdout, result);
            foreach (var finding in mappings?.Findings ?? [])
            {
                await stdout.WriteLineAsync(finding.ToString());
            }

            var digest = DescribeDigests(result);
            await stdout.WriteLineAsync(result.IsIntact
                ? $"ledger intact: {result.Chains} chains, {result.Rows} rows; {digest}"
                : $"ledger broken: {result.Findings.Count} findings in {result.Chains} chains, {result.Rows} rows; {digest}");
            await stdout.WriteLineAsync(mappings is null
                ? $"subject mappings NOT checked: {MemberKeySetting} is not set (base64 of at least 32 bytes), so a member pointed at another chain, or a deleted mapping, would go unseen; set it to the Key Vault secret erasure-member-key"
                : mappings.IsIntact
                    ? $"subject mappings intact: {mappings.Mappings} member mappings, {mappings.ErasedChains} erased chains"
                    : $"subject mappings broken: {mappings.Findings.Count} findings in {mappings.Mappings} member mappings, {mappings.ErasedChains} erased chains");
            return !result.IsIntact || mappings is { IsIntact: false } ? CliApplication.ExitFailed
                : mappings is null ? ExitMappingsUnchecked
                : CliApplication.ExitOk;
        }));
        return command;
    }

    /// <summary><c>ledger verify</c>'s exit code when the chains are intact but the member mappings were not checked.</summary>
    internal const int ExitMappingsUnchecked = 3;

    private const string MemberKeySetting = "Erasure__MemberKey";

    /// <summary>The mapping check when the member key is configured; it needs no privacy-office key, so only the member key is read.</summary>
    private static SubjectMappingVerifier? MappingVerifier(ServiceProvider services)
    {
        var memberKey = services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>()[$"{ErasureKeysOptions.Section}:{nameof(ErasureKeysOptions.MemberKey)}"];
        return memberKey is not null && KeyRing.UsableKey(memberKey) is not null
            ? new SubjectMappingVerifier(services.GetRequiredService<StorageAccount>(), new MemberKeys(Microsoft.Extensions.Options.Options.Create(new ErasureKeysOptions { MemberKey = memberKey })))
            : null;
    }

    private static async Task WriteFindingsAsync(TextWriter stdout, LedgerVerification result)
    {
        foreach (var finding in result.Findings)
        {
            await stdout.WriteLineAsync(finding.ToString());
        }
    }

    private static string DescribeDigests(LedgerVerification result)
    {
        var trusted = result.Log.TrustedLines.Count();
        return result.Digest is null
            ? "no signed digest line in the log"
            : $"checked against {trusted} signed digest line(s), the last of {result.Digest.CreatedAtUtc:yyyy-MM-dd HH:mm:ss}Z";
    }

    private static Command ExportCommand(TextWriter stdout, TimeProvider? time)
    {
        var connection = ConnectionStringOption();
        var settings = CliSettingsFile.CreateOption();
        var member = new Option<string>("--member") { Description = "The member id whose disclosures to list.", HelpName = "ID", Required = true };
        var format = new Option<string>("--format") { Description = "json or csv.", DefaultValueFactory = _ => "json" };
        format.AcceptOnlyFromAmong("json", "csv");
        var japanese = new Option<bool>("--ja") { Description = "CSV column names in Japanese." };
        var privateKey = PrivateKeyOption(required: false);
        var command = new Command("export", "List every disclosure of one member: date, recipient, country, data items, purpose, legal basis, outcome (APPI Art. 33(5), GDPR Art. 15).\n" +
            "An erased member's disclosures need the privacy office's private key (--private-key), which opens their sealed mapping.\n" +
            "Example: cafetalk-integrations ledger export --member stu-1001 --format csv") { connection, settings, member, format, japanese, privateKey };
        command.SetAction((parse, cancellationToken) => WithServicesAsync(parse, connection, settings, time, async services =>
        {
            var memberId = parse.GetValue(member)!;
            var export = services.GetRequiredService<DisclosureExport>();
            string? pem = null;
            if (parse.GetValue(privateKey) is { } keyFile && (pem = await ReadPrivateKeyAsync(parse, keyFile, cancellationToken)) is null)
            {
                return CliApplication.ExitBadArguments;
            }

            var records = pem is not null
                ? await export.ForErasedMemberAsync(memberId, pem, cancellationToken) ?? []
                : await export.ForMemberAsync(memberId, cancellationToken);
            await stdout.WriteAsync(parse.GetValue(format) == "csv" ? DisclosureExport.ToCsv(records, parse.GetValue(japanese)) : DisclosureExport.ToJson(memberId, records) + "\n");
            return CliApplication.ExitOk;
        }));
        return command;
    }

    private static Command DigestCommand(TextWriter stdout, TimeProvider? time)
    {
        var connection = ConnectionStringOption();
        var settings = CliSettingsFile.CreateOption();
        var command = new Command("digest", "Verify the ledger, then append a signed digest of every chain head (purge anchors included) to the append-only digest log (one blob a month); the timer does this every 15 minutes. A chain that does not verify is written at its last trusted head, marked broken, and the command exits 1.\n" +
            "Example: cafetalk-integrations ledger digest") { connection, settings };
        command.SetAction((parse, cancellationToken) => WithServicesAsync(parse, connection, settings, time, async services =>
        {
            var verification = await services.GetRequiredService<LedgerVerifier>().VerifyAsync(cancellationToken);
            await WriteFindingsAsync(stdout, verification);
            try
            {
                var digest = await services.GetRequiredService<LedgerDigests>().WriteAsync(verification, cancellationToken);
                await stdout.WriteLineAsync($"digest {digest.Digest} over {digest.Chains} chains signed by {digest.KeyId} and appended to {BlobContainerNames.LedgerDigests}/{digest.Blob}");
                return CliApplication.ExitOk;
            }
            catch (LedgerBrokenException ex)
            {
                var broken = verification.ChainFindings.Select(f => f.SubjectRef).Distinct(StringComparer.Ordinal).Count();
                await stdout.WriteLineAsync($"digest {ex.Written.Digest} over {ex.Written.Chains} chains appended to {BlobContainerNames.LedgerDigests}/{ex.Written.Blob}, " +
                    $"with {broken} broken chain(s) signed at their last trusted heads and marked broken: {verification.ChainFindings.Count()} findings in the ledger's chains");
                return CliApplication.ExitFailed;
            }
        }, signs: true));
        return command;
    }

    private static Command PurgeCommand(TextWriter stdout, TimeProvider? time)
    {
        var connection = ConnectionStringOption();
        var settings = CliSettingsFile.CreateOption();
        var dryRun = new Option<bool>("--dry-run") { Description = "Count the rows past retention without deleting anything." };
        var command = new Command("purge", "Delete ledger rows past their 3-year retention (APPI Art. 29), oldest first, and re-anchor each chain so `ledger verify` still passes (the nightly timer does this). Exit 1 when a chain was skipped.\n" +
            "Example: cafetalk-integrations ledger purge --dry-run") { connection, settings, dryRun };
        command.SetAction((parse, cancellationToken) => WithServicesAsync(parse, connection, settings, time, async services =>
        {
            var result = await services.GetRequiredService<LedgerRetention>().PurgeAsync(parse.GetValue(dryRun), cancellationToken);
            foreach (var skip in result.Skipped)
            {
                await stdout.WriteLineAsync($"skipped chain {skip.SubjectRef}: {skip.Reason}");
            }

            await stdout.WriteLineAsync(result.DryRun
                ? $"dry run: {result.RowsPurged} rows past retention in {result.ChainsPurged} of {result.Chains} chains would be purged"
                : $"purged {result.RowsPurged} rows past retention from {result.ChainsPurged} of {result.Chains} chains");
            if (!result.DryRun)
            {
                var tombstones = await services.GetRequiredService<SubjectRegistry>().PurgeExpiredTombstonesAsync(cancellationToken);
                await stdout.WriteLineAsync($"destroyed {tombstones} erased members' tombstones and sealed mappings past retention");
            }

            return result.Skipped.Count == 0 ? CliApplication.ExitOk : CliApplication.ExitFailed;
        }, signs: !parse.GetValue(dryRun)));
        return command;
    }

    private static Option<FileInfo> PrivateKeyOption(bool required)
    {
        var option = new Option<FileInfo>("--private-key")
        {
            Description = "The privacy office's RSA private key (PEM file). Only the privacy office holds it; the app has the public key only.",
            HelpName = "FILE",
            Required = required,
        };
        // Refused while parsing, like every other wrong value, but without echoing where the privacy office keeps its key.
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<FileInfo>() is { } file && !file.Exists && !Directory.Exists(file.FullName))
            {
                result.AddError("--private-key: no such file.");
            }
        });
        return option;
    }

    private static Command UnsealCommand(TextWriter stdout, TimeProvider? time)
    {
        var connection = ConnectionStringOption();
        var settings = CliSettingsFile.CreateOption();
        var member = new Option<string>("--member") { Description = "The erased member's id.", HelpName = "ID", Required = true };
        var privateKey = PrivateKeyOption(required: true);
        var command = new Command("unseal", "Privacy office only: open an erased member's sealed pseudonym mapping (APPI Art. 29 records) and print it. Exit 1 when the member has none; exit 2 when the member id is not one, or the key file is missing, unreadable, not an RSA private key in PEM, or not the privacy office's key.\n" +
            "Example: cafetalk-integrations ledger unseal --member stu-1001 --private-key privacy-office.pem") { connection, settings, member, privateKey };
        command.SetAction((parse, cancellationToken) => WithServicesAsync(parse, connection, settings, time, async services =>
        {
            var memberId = parse.GetValue(member)!;
            if (!TableKeys.IsValidId(memberId))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("error: --member is not a member id (1-64 characters of A-Z a-z 0-9 _ . -).");
                return CliApplication.ExitBadArguments;
            }

            if (await ReadPrivateKeyAsync(parse, parse.GetValue(privateKey)!, cancellationToken) is not { } pem)
            {
                return CliApplication.ExitBadArguments;
            }

            var opened = await services.GetRequiredService<SubjectRegistry>().OpenSealedAsync(memberId, pem, cancellationToken);
            if (opened is not { } found)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("error: no sealed mapping for this member (never erased, or destroyed after its retention).");
                return CliApplication.ExitFailed;
            }

            await stdout.WriteLineAsync($"{found.Mapping.MemberId} -> {found.Mapping.SubjectRef}; sealed mapping kept until {found.RetainUntil:yyyy-MM-dd}");
            return CliApplication.ExitOk;
        }));
        return command;
    }

    private static Command CommitSubjectsCommand(TextWriter stdout, TimeProvider? time)
    {
        var connection = ConnectionStringOption();
        var settings = CliSettingsFile.CreateOption();
        var privateKey = PrivateKeyOption(required: false);
        var command = new Command("commit-subjects", "One-time migration for a Subjects table written before member mappings carried commitments: commits every uncommitted mapping to its chain with the member key, and with the privacy office's key marks the chains of members erased before. It trusts the table as it stands: run it right after a clean `ledger verify`.\n" +
            "Example: cafetalk-integrations ledger commit-subjects --private-key privacy-office.pem") { connection, settings, privateKey };
        command.SetAction((parse, cancellationToken) => WithServicesAsync(parse, connection, settings, time, async services =>
        {
            string? pem = null;
            if (parse.GetValue(privateKey) is { } keyFile && (pem = await ReadPrivateKeyAsync(parse, keyFile, cancellationToken)) is null)
            {
                return CliApplication.ExitBadArguments;
            }

            var (committed, marked) = await services.GetRequiredService<SubjectRegistry>().CommitUncommittedAsync(pem, cancellationToken);
            await stdout.WriteLineAsync($"committed {committed} member mappings to their chains; " + (pem is null
                ? "chains of members erased before commitments not marked (pass --private-key)"
                : $"marked {marked} chains of members erased before commitments"));
            return CliApplication.ExitOk;
        }));
        return command;
    }

    /// <summary>
    /// The <c>--private-key</c> file's PEM, or null after one <c>error:</c> line when it is missing, unreadable or not an
    /// RSA private key. The path and the file's content stay out of the message.
    /// </summary>
    private static async Task<string?> ReadPrivateKeyAsync(ParseResult parse, FileInfo keyFile, CancellationToken cancellationToken)
    {
        var error = parse.InvocationConfiguration.Error;
        string pem;
        try
        {
            pem = await File.ReadAllTextAsync(keyFile.FullName, cancellationToken);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            await error.WriteLineAsync("error: --private-key: no such file.");
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync("error: --private-key: the file cannot be read (a directory, or no permission).");
            return null;
        }

        try
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            // A public key imports too; only the private half opens a sealed mapping.
            rsa.ExportRSAPrivateKey();
            return pem;
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            await error.WriteLineAsync("error: --private-key: not an unencrypted RSA private key in PEM (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----).");
            return null;
        }
    }

    private static Command PolicyCommand(TextWriter stdout)
    {
        var write = new Option<bool>("--write-docs") { Description = $"Write the table into {DisclosurePolicyDocument.DocumentPath} between the disclosure-policy markers instead of printing it." };
        var table = new Command("table", $"Render the disclosure policy (recipients, purposes, allowlisted fields) as {DisclosurePolicyDocument.DocumentPath}'s markdown table.\n" +
            "Example: cafetalk-integrations policy table --write-docs") { write };
        table.SetAction(async (parse, cancellationToken) =>
        {
            var section = DisclosurePolicyDocument.ToMarkdown(DisclosurePolicy.Cafetalk);
            if (!parse.GetValue(write))
            {
                await stdout.WriteAsync(section);
                return CliApplication.ExitOk;
            }

            var document = Path.Combine(RepositoryRoot.Find(), DisclosurePolicyDocument.DocumentPath);
            var text = await File.ReadAllTextAsync(document, cancellationToken);
            await File.WriteAllTextAsync(document, DisclosurePolicyDocument.ReplaceSection(text, section), cancellationToken);
            await stdout.WriteLineAsync($"wrote the disclosure policy table to {document}");
            return CliApplication.ExitOk;
        });
        var policy = new Command("policy", "The disclosure policy: what each recipient may receive, and why.");
        policy.Subcommands.Add(table);
        return policy;
    }

    /// <param name="signs">The command appends signed lines: outside the Sandbox's Azurite it needs the Key Vault key, since a line signed by a per-process key is a permanent DigestForged finding in the immutable log.</param>
    private static async Task<int> WithServicesAsync(ParseResult parse, Option<string> connection, Option<FileInfo> settings, TimeProvider? time, Func<ServiceProvider, Task<int>> run, bool signs = false)
    {
        var fromFile = parse.GetValue(settings) is { } file ? CliSettingsFile.Read(file) : new Dictionary<string, string?>();
        var connectionString = parse.GetValue(connection)
            ?? fromFile.GetValueOrDefault(StorageAccount.SettingName)
            ?? Environment.GetEnvironmentVariable(StorageAccount.SettingName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            await parse.InvocationConfiguration.Error.WriteLineAsync(
                $"error: no storage to read: set the {StorageAccount.SettingName} environment variable or pass --connection-string.");
            return CliApplication.ExitBadArguments;
        }

        try
        {
            // Besides storage, the file's erasure keys: the mappings that Sandbox wrote are checked with its own member key.
            var hostSettings = fromFile.Where(s => s.Key.StartsWith(ErasureKeysOptions.Section + ":", StringComparison.OrdinalIgnoreCase))
                .Append(new(StorageAccount.SettingName, connectionString))
                .ToDictionary(s => s.Key, s => s.Value, StringComparer.OrdinalIgnoreCase);
            await using var services = CliHost.Build(hostSettings, time: time);
            if (signs && !connectionString.Contains($"AccountName={Azurite.AccountName};", StringComparison.OrdinalIgnoreCase)
                && services.GetService<Microsoft.Extensions.Options.IOptions<LedgerDigestSigningOptions>>()?.Value.KeyId is null)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(
                    "error: no digest key: set Ledger__DigestSigning__KeyId to the Key Vault key; a throwaway key's line could never be checked and would stay in the log as a forgery.");
                return CliApplication.ExitBadArguments;
            }

            return await run(services);
        }
        catch (SubjectMappingTamperedException ex)
        {
            // The mapping failed its keyed commitment: a finding about the table, not a bad argument.
            await parse.InvocationConfiguration.Error.WriteLineAsync($"error: {ex.Message}");
            return CliApplication.ExitFailed;
        }
        catch (SealedSubjectException ex)
        {
            // No sealed mapping opens with the key given: it is not the privacy office's key, a bad argument.
            await parse.InvocationConfiguration.Error.WriteLineAsync($"error: --private-key: {ex.Message}");
            return CliApplication.ExitBadArguments;
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException ex)
        {
            // Names the setting that is missing or wrong, never its value.
            await parse.InvocationConfiguration.Error.WriteLineAsync($"error: {ex.Message}");
            return CliApplication.ExitBadArguments;
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or FormatException or ArgumentException)
        {
            // Storage errors name status and code only: their messages can echo request URLs.
            var detail = ex is Azure.RequestFailedException rf ? $"status {rf.Status}, {rf.ErrorCode ?? "no error code"}" : "the connection string is not valid";
            await parse.InvocationConfiguration.Error.WriteLineAsync($"error: storage request failed ({detail}).");
            return CliApplication.ExitFailed;
        }
    }
}
