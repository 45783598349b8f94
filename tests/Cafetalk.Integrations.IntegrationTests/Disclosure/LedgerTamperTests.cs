using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Storage;
using static Cafetalk.Integrations.IntegrationTests.Disclosure.LedgerScenario;

namespace Cafetalk.Integrations.IntegrationTests.Disclosure;

/// <summary>Tampers with ledger rows straight in Azurite and expects verify to name the exact row.</summary>
public sealed class LedgerTamperTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    // Tests here break chains on purpose, and a digest or purge refuses over any broken chain: each starts empty.
    public Task InitializeAsync() => ResetAsync(fixture.Storage);

    public Task DisposeAsync() => Task.CompletedTask;

    private TableClient Table => fixture.Storage.Table(TableNames.DisclosureLedger);

    [Fact]
    public async Task Verify_UntouchedChain_ReportsNothing()
    {
        var subjectRef = await WriteChainAsync(4);

        Assert.Empty(await FindingsAsync(subjectRef));
    }

    [Fact]
    public async Task Verify_RowEditedInTable_ReportsThatRow()
    {
        var subjectRef = await WriteChainAsync(4);
        var row = (await Table.GetEntityAsync<TableEntity>(subjectRef, LedgerRow.RowKeyOf(2))).Value;
        row["RecipientLegalName"] = "Someone Else LLC";
        await Table.UpdateEntityAsync(row, ETag.All, TableUpdateMode.Replace);

        var finding = Assert.Single(await FindingsAsync(subjectRef));

        Assert.Equal((LedgerFindingKind.Edited, LedgerRow.RowKeyOf(2)), (finding.Kind, finding.RowKey));
    }

    [Fact]
    public async Task Verify_RowDeletedFromTable_ReportsThatRow()
    {
        var subjectRef = await WriteChainAsync(4);
        await Table.DeleteEntityAsync(subjectRef, LedgerRow.RowKeyOf(2));

        var finding = Assert.Single(await FindingsAsync(subjectRef));

        Assert.Equal((LedgerFindingKind.Deleted, LedgerRow.RowKeyOf(2)), (finding.Kind, finding.RowKey));
        Assert.Equal("row 2 is missing", finding.Detail);
    }

    [Fact]
    public async Task Verify_LastRowDeletedFromTable_ReportsThatRow()
    {
        var subjectRef = await WriteChainAsync(3);
        await Table.DeleteEntityAsync(subjectRef, LedgerRow.RowKeyOf(3));

        var finding = Assert.Single(await FindingsAsync(subjectRef));

        Assert.Equal((LedgerFindingKind.Deleted, LedgerRow.RowKeyOf(3)), (finding.Kind, finding.RowKey));
    }

    [Fact]
    public async Task Verify_TwoRowsSwappedInTable_ReportsBothAsReordered()
    {
        var subjectRef = await WriteChainAsync(4);
        var second = (await Table.GetEntityAsync<TableEntity>(subjectRef, LedgerRow.RowKeyOf(2))).Value;
        var third = (await Table.GetEntityAsync<TableEntity>(subjectRef, LedgerRow.RowKeyOf(3))).Value;
        (second.RowKey, third.RowKey) = (third.RowKey, second.RowKey);
        await Table.UpdateEntityAsync(second, ETag.All, TableUpdateMode.Replace);
        await Table.UpdateEntityAsync(third, ETag.All, TableUpdateMode.Replace);

        var findings = await FindingsAsync(subjectRef);

        Assert.Equal(
            [(LedgerFindingKind.Reordered, LedgerRow.RowKeyOf(2)), (LedgerFindingKind.Reordered, LedgerRow.RowKeyOf(3))],
            findings.Select(f => (f.Kind, f.RowKey)));
    }

    [Fact]
    public async Task Verify_ChainRewrittenWithFreshHashesAfterDigest_ReportsDigestMismatch()
    {
        var subjectRef = await WriteChainAsync(3);
        await new LedgerDigests(fixture.Storage, Time()).WriteAsync();

        // A careful forger edits row 2, then recomputes every later hash and the head: the chain alone looks intact.
        var rows = new List<TableEntity>();
        await foreach (var row in Table.QueryAsync<TableEntity>(e => e.PartitionKey == subjectRef))
        {
            rows.Add(row);
        }

        var chain = rows.Where(r => !LedgerRow.IsHead(r)).ToList();
        chain[1]["DataItems"] = "start_time";
        var prev = chain[0].GetString(LedgerRow.Hash);
        foreach (var row in chain.Skip(1))
        {
            row[LedgerRow.PrevHash] = prev;
            row[LedgerRow.Hash] = prev = LedgerRow.ComputeHash(row);
            await Table.UpdateEntityAsync(row, ETag.All, TableUpdateMode.Replace);
        }

        var head = rows.Single(LedgerRow.IsHead);
        head[LedgerRow.Hash] = prev;
        await Table.UpdateEntityAsync(head, ETag.All, TableUpdateMode.Replace);

        var finding = Assert.Single(await FindingsAsync(subjectRef));

        Assert.Equal((LedgerFindingKind.DigestMismatch, LedgerRow.RowKeyOf(3)), (finding.Kind, finding.RowKey));
    }

    [Fact]
    public async Task Verify_DigestHeadListAltered_ReportsDigestTampered()
    {
        await WriteChainAsync(1);
        var digest = await new LedgerDigests(fixture.Storage, Time()).WriteAsync();
        var blob = fixture.Storage.BlobContainer(BlobContainerNames.LedgerDigests).GetBlobClient(digest.HeadsBlob);
        await blob.UploadAsync(BinaryData.FromString("[]"), overwrite: true);

        var result = await Verifier().VerifyAsync();

        Assert.Contains(result.Findings, f => f.Kind == LedgerFindingKind.DigestTampered && f.Detail.Contains(digest.HeadsBlob, StringComparison.Ordinal));
    }

    private async Task<string> WriteChainAsync(int rows)
    {
        var ledger = Ledger(fixture.Storage, Time());
        var member = Unique("stu");
        var handles = await ledger.RecordIntentsAsync(Enumerable.Range(1, rows).Select(i => Intent(Meeting, member, SubjectRole.Student, $"bk-{i}")));
        return handles[0].SubjectRef;
    }

    private async Task<List<LedgerFinding>> FindingsAsync(string subjectRef) =>
        (await Verifier().VerifyAsync()).Findings.Where(f => f.SubjectRef == subjectRef).ToList();

    private LedgerVerifier Verifier() => LedgerScenario.Verifier(fixture.Storage);
}
