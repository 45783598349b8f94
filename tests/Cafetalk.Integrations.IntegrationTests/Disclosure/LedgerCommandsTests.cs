using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Functions.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Storage;
using Microsoft.Azure.Functions.Worker;
using static Cafetalk.Integrations.IntegrationTests.Disclosure.LedgerScenario;

namespace Cafetalk.Integrations.IntegrationTests.Disclosure;

/// <summary>The <c>ledger</c> commands end to end against Azurite. Ordered steps share one ledger, so one test.</summary>
public sealed class LedgerCommandsTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    // The counts below are of this test's chains alone, whichever test of the class ran before.
    public Task InitializeAsync()
    {
        UseTestErasureKeysInCli();
        return ResetAsync(fixture.Storage);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task LedgerCommands_DigestVerifyExportThenTamper_ReportWhatTheLedgerHolds()
    {
        var ledger = Ledger(fixture.Storage, Time());
        var handles = await ledger.RecordIntentsAsync(BookingConfirmed("lec-cli", "stu-cli", "bk-cli"));
        await ledger.RecordOutcomesAsync(handles.Select(h => new DisclosureResult(h, DisclosureOutcome.Succeeded, "zoom-1")));
        var connection = fixture.Sandbox.StorageConnectionString;

        var digest = await RunAsync("ledger", "digest", "--connection-string", connection);
        var verify = await RunAsync("ledger", "verify", "--connection-string", connection);
        var json = await RunAsync("ledger", "export", "--member", "stu-cli", "--connection-string", connection);
        var csv = await RunAsync("ledger", "export", "--member", "stu-cli", "--format", "csv", "--connection-string", connection);

        Assert.Equal(0, digest.Code);
        Assert.Matches("^digest [0-9a-f]{64} over 2 chains signed by ephemeral:[0-9a-f]{16} and appended to ledger-digests/digests/[0-9]{4}-[0-9]{2}/0000\\.log", digest.Stdout);
        Assert.Equal(0, verify.Code);
        Assert.Matches("^ledger intact: 2 chains, 8 rows; checked against [0-9]+ signed digest line\\(s\\), the last of [0-9]{4}-[0-9]{2}-[0-9]{2} ", verify.Stdout);
        Assert.Equal(0, json.Code);
        using (var document = System.Text.Json.JsonDocument.Parse(json.Stdout))
        {
            var disclosures = document.RootElement.GetProperty("disclosures");
            Assert.Equal(2, disclosures.GetArrayLength());
            Assert.Equal("Google LLC", disclosures[1].GetProperty("recipient").GetString());
            Assert.Equal("Succeeded", disclosures[1].GetProperty("outcome").GetString());
            Assert.Equal("United States", disclosures[1].GetProperty("country").GetString());
        }

        var csvLines = csv.Stdout.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, csvLines.Length);
        Assert.Contains(",\"Zoom Video Communications, Inc.\",United States,start_time duration agenda,", csvLines[1], StringComparison.Ordinal);

        var table = fixture.Storage.Table(TableNames.DisclosureLedger);
        var row = (await table.GetEntityAsync<TableEntity>(handles[1].SubjectRef, LedgerRow.RowKeyOf(1))).Value;
        row["DataItems"] = "start_time";
        await table.UpdateEntityAsync(row, ETag.All, TableUpdateMode.Replace);

        var broken = await RunAsync("ledger", "verify", "--connection-string", connection);

        Assert.Equal(1, broken.Code);
        Assert.Contains($"Edited: chain {handles[1].SubjectRef} row {LedgerRow.RowKeyOf(1)}: the row's content does not match its hash", broken.Stdout, StringComparison.Ordinal);
        Assert.Contains("ledger broken: 1 findings", broken.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LedgerDigestFunction_TimerFires_AppendsOneSignedDigestLineCoveringEveryChain()
    {
        var digests = new LedgerDigests(fixture.Storage, Time());
        var before = (await digests.ReadLastAsync())?.Digest?.Digest;
        await Ledger(fixture.Storage, Time()).RecordIntentAsync(Intent(Meeting, Unique("stu"), SubjectRole.Student, "bk-timer"));

        await new LedgerDigestFunction(digests, Verifier(fixture.Storage), Ledger(fixture.Storage, Time()), Microsoft.Extensions.Options.Options.Create(new DisclosureLedgerOptions()), LogCapture.Logger<LedgerDigestFunction>())
            .Run(new TimerInfo(), CancellationToken.None);

        var last = (await digests.ReadLastAsync())!;
        Assert.Empty(last.Problems);
        Assert.Equal(before ?? LedgerRow.GenesisHash, last.Digest!.PreviousDigest);
        Assert.Equal((EphemeralLedgerDigestKey.Shared.KeyId, "ES256"), (last.Digest.KeyId, last.Digest.Algorithm));
        Assert.Equal(last.Digest.Chains, last.Heads.Count);
        Assert.True(last.Heads.Count >= 1);
    }

    [Fact]
    public async Task Export_UnknownMember_PrintsAnEmptyList()
    {
        var result = await RunAsync("ledger", "export", "--member", "nobody", "--connection-string", fixture.Sandbox.StorageConnectionString);

        Assert.Equal(0, result.Code);
        Assert.Contains("\"disclosures\": []", result.Stdout, StringComparison.Ordinal);
    }

    private static Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args) => CliRun.RunAsync(args);
}
