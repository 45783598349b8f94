using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static Cafetalk.Integrations.IntegrationTests.Disclosure.LedgerScenario;

namespace Cafetalk.Integrations.IntegrationTests.Disclosure;

/// <summary><c>ledger purge</c> end to end against Azurite, on rows written three years and two days ago.</summary>
public sealed class LedgerPurgeCommandTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task LedgerPurge_DryRunThenPurge_CountsThenDeletesTheExpiredRows_AndVerifyPasses()
    {
        var past = new FakeTimeProvider(TimeProvider.System.GetUtcNow().AddYears(-DisclosureLedger.RetentionYears).AddDays(-2));
        var ledger = Ledger(fixture.Storage, past);
        var handles = await ledger.RecordIntentsAsync(BookingConfirmed("lec-purge", "stu-purge", "bk-purge"));
        await ledger.RecordOutcomesAsync(handles.Select(h => new DisclosureResult(h, DisclosureOutcome.Succeeded, "zoom-1")));
        var today = Ledger(fixture.Storage, TimeProvider.System);
        var fresh = await today.RecordIntentAsync(Intent(Meeting, "stu-purge", SubjectRole.Student, "bk-fresh"));
        await today.RecordOutcomeAsync(fresh, DisclosureOutcome.Succeeded);
        var connection = fixture.Sandbox.StorageConnectionString;

        var dryRun = await RunAsync("ledger", "purge", "--dry-run", "--connection-string", connection);
        var verifyBefore = await RunAsync("ledger", "verify", "--connection-string", connection);
        var purge = await RunAsync("ledger", "purge", "--connection-string", connection);
        var again = await RunAsync("ledger", "purge", "--connection-string", connection);
        var verify = await RunAsync("ledger", "verify", "--connection-string", connection);

        Assert.Equal((0, "dry run: 8 rows past retention in 2 of 2 chains would be purged\n"), (dryRun.Code, dryRun.Stdout.ReplaceLineEndings("\n")));
        Assert.Equal(0, verifyBefore.Code);
        // The purge also destroys erased members' tombstones past retention; this ledger has none.
        const string NoTombstones = "destroyed 0 erased members' tombstones and sealed mappings past retention\n";
        Assert.Equal((0, "purged 8 rows past retention from 2 of 2 chains\n" + NoTombstones), (purge.Code, purge.Stdout.ReplaceLineEndings("\n")));
        Assert.Equal((0, "purged 0 rows past retention from 0 of 2 chains\n" + NoTombstones), (again.Code, again.Stdout.ReplaceLineEndings("\n")));
        Assert.Equal(0, verify.Code);
        Assert.StartsWith("ledger intact: 2 chains, 2 rows;", verify.Stdout, StringComparison.Ordinal);
    }

    private static Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        UseTestErasureKeysInCli();
        return CliRun.RunAsync(args);
    }
}
