using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Functions.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Time.Testing;
using static Cafetalk.Integrations.IntegrationTests.Disclosure.LedgerScenario;

namespace Cafetalk.Integrations.IntegrationTests.Disclosure;

/// <summary>
/// The retention purge against Azurite: time moves 3 years and a day ahead, expired rows go, and the chains still
/// verify from their anchor. Tampering after (or disguised as) a purge is still reported.
/// </summary>
public sealed class LedgerRetentionTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    // Tests here break chains on purpose, and a digest or purge refuses over any broken chain: each starts empty.
    public Task InitializeAsync() => ResetAsync(fixture.Storage);

    public Task DisposeAsync() => Task.CompletedTask;

    private static readonly TimeSpan PastRetention = TimeSpan.FromDays((365 * 3) + 2);

    private TableClient Table => fixture.Storage.Table(TableNames.DisclosureLedger);

    [Fact]
    public async Task Purge_AfterThreeYears_RemovesExactlyTheExpiredRows_AndTheChainAndDigestStillVerify()
    {
        var time = Time();
        var member = Unique("stu");
        await DiscloseAsync(time, member, "bk-old-1", "bk-old-2", "bk-old-3"); // rows 1..6
        time.Advance(TimeSpan.FromDays(365));
        var subjectRef = await DiscloseAsync(time, member, "bk-new-1", "bk-new-2"); // rows 7..10
        await new LedgerDigests(fixture.Storage, time).WriteAsync();
        time.Advance(PastRetention - TimeSpan.FromDays(365));

        var result = await Retention(time).PurgeAsync();

        Assert.False(result.DryRun);
        Assert.Equal([7, 8, 9, 10], (await RowsAsync(subjectRef)).Select(r => r.Seq));
        var head = (await Table.GetEntityAsync<TableEntity>(subjectRef, LedgerRow.HeadRowKey)).Value;
        Assert.Equal(6, head.GetInt64(LedgerRow.PurgedThroughSeq));
        Assert.Equal(10, head.GetInt64(LedgerRow.Seq));
        Assert.Empty(await FindingsAsync(subjectRef, time));
    }

    [Fact]
    public async Task Purge_IntentWhoseOutcomeIsNotYetExpired_KeepsBoth_ButAnUnansweredIntentGoes()
    {
        var time = Time();
        var member = Unique("stu");
        var ledger = Ledger(fixture.Storage, time);
        var unanswered = await ledger.RecordIntentAsync(Intent(Meeting, member, SubjectRole.Student, "bk-in-doubt")); // row 1
        var answered = await ledger.RecordIntentAsync(Intent(Meeting, member, SubjectRole.Student, "bk-late")); // row 2
        time.Advance(TimeSpan.FromDays(30));
        await Ledger(fixture.Storage, time).RecordOutcomeAsync(answered, DisclosureOutcome.Succeeded); // row 3, a month later
        time.Advance(PastRetention - TimeSpan.FromDays(30));

        await Retention(time).PurgeAsync();

        Assert.Equal([2, 3], (await RowsAsync(unanswered.SubjectRef)).Select(r => r.Seq));
        Assert.Empty(await FindingsAsync(unanswered.SubjectRef, time));

        time.Advance(TimeSpan.FromDays(31));
        await Retention(time).PurgeAsync();

        Assert.Empty(await RowsAsync(unanswered.SubjectRef));
        Assert.Empty(await FindingsAsync(unanswered.SubjectRef, time));
    }

    [Fact]
    public async Task Purge_Twice_SecondRunPurgesNothing_AndAppendsAfterAPurgeStillChain()
    {
        var time = Time();
        var member = Unique("stu");
        var subjectRef = await DiscloseAsync(time, member, "bk-1", "bk-2");
        time.Advance(PastRetention);
        var first = await Retention(time).PurgeAsync();

        var second = await Retention(time).PurgeAsync();

        Assert.True(first.RowsPurged >= 4);
        Assert.Equal(0, second.RowsPurged);
        Assert.Empty(await RowsAsync(subjectRef));
        Assert.Empty(await FindingsAsync(subjectRef, time));

        // The member books again: the chain goes on from the anchor, and the anchor survives the head update.
        await DiscloseAsync(time, member, "bk-3");
        Assert.Equal([5, 6], (await RowsAsync(subjectRef)).Select(r => r.Seq));
        Assert.Empty(await FindingsAsync(subjectRef, time));
    }

    [Fact]
    public async Task Purge_MoreExpiredRowsThanOneTransactionHolds_PurgesThemAllInBatches_AndTheChainVerifies()
    {
        var time = Time();
        var member = Unique("stu");
        var ledger = Ledger(fixture.Storage, time);
        await ledger.RecordIntentsAsync(Enumerable.Range(1, 80).Select(i => Intent(Meeting, member, SubjectRole.Student, $"bk-a{i}")));
        var handles = await ledger.RecordIntentsAsync(Enumerable.Range(1, 80).Select(i => Intent(Meeting, member, SubjectRole.Student, $"bk-b{i}")));
        var subjectRef = handles[0].SubjectRef;
        time.Advance(PastRetention);

        await Retention(time).PurgeAsync();

        Assert.Empty(await RowsAsync(subjectRef));
        var head = (await Table.GetEntityAsync<TableEntity>(subjectRef, LedgerRow.HeadRowKey)).Value;
        Assert.Equal((160L, 160L), (head.GetInt64(LedgerRow.PurgedThroughSeq), head.GetInt64(LedgerRow.Seq)));
        Assert.Empty(await FindingsAsync(subjectRef, time));
    }

    [Fact]
    public async Task Purge_DryRun_CountsButDeletesNothing()
    {
        var time = Time();
        var subjectRef = await DiscloseAsync(time, Unique("stu"), "bk-1");
        time.Advance(PastRetention);

        var result = await Retention(time).PurgeAsync(dryRun: true);

        Assert.True(result.DryRun);
        Assert.True(result.RowsPurged >= 2);
        Assert.Equal(2, (await RowsAsync(subjectRef)).Count);
    }

    [Fact]
    public async Task Purge_AfterErasure_RemovesTheUnlinkedRows_AndVerifyPasses()
    {
        var time = Time();
        var member = Unique("stu");
        var subjectRef = await DiscloseAsync(time, member, "bk-1", "bk-2");
        var registry = TestErasureKeys.Registry(fixture.Storage, time);
        Assert.True(await registry.SealAsync(member, time.GetUtcNow().AddYears(DisclosureLedger.RetentionYears)));
        Assert.Empty(await FindingsAsync(subjectRef, time));
        time.Advance(PastRetention);

        await new LedgerRetentionPurgeFunction(Retention(time), registry, LogCapture.Logger<LedgerRetentionPurgeFunction>()).Run(new TimerInfo(), CancellationToken.None);

        Assert.Empty(await RowsAsync(subjectRef));
        Assert.Empty(await FindingsAsync(subjectRef, time));
        Assert.Null(await registry.FindAsync(member));
        // The sealed mapping goes with the last record: nothing identifies the member any more.
        Assert.Null(await registry.FindSealedAsync(member));
    }

    [Fact]
    public async Task Verify_RemainingRowEditedAfterPurge_ReportsThatRow()
    {
        var (time, subjectRef) = await PurgedChainAsync();
        var row = (await Table.GetEntityAsync<TableEntity>(subjectRef, LedgerRow.RowKeyOf(6))).Value;
        row["RecipientCountry"] = "Japan";
        await Table.UpdateEntityAsync(row, ETag.All, TableUpdateMode.Replace);

        var finding = Assert.Single(await FindingsAsync(subjectRef, time));

        Assert.Equal((LedgerFindingKind.Edited, LedgerRow.RowKeyOf(6)), (finding.Kind, finding.RowKey));
    }

    [Fact]
    public async Task Verify_FirstRowAfterTheAnchorDeleted_ReportsThatRow()
    {
        var (time, subjectRef) = await PurgedChainAsync();
        await Table.DeleteEntityAsync(subjectRef, LedgerRow.RowKeyOf(5));

        var finding = Assert.Single(await FindingsAsync(subjectRef, time));

        Assert.Equal((LedgerFindingKind.Deleted, LedgerRow.RowKeyOf(5)), (finding.Kind, finding.RowKey));
        Assert.Equal("row 5 is missing", finding.Detail);
    }

    [Fact]
    public async Task Verify_UnexpiredRowsDeletedBehindAForgedAnchor_ReportsTheDeletion()
    {
        // A tamperer deletes rows 5 and 6, which are not past retention, and moves the anchor to row 6 exactly as a
        // purge would: right hash, right encoding. The anchor row's own RetainUntilUtc gives it away.
        var (time, subjectRef) = await PurgedChainAsync();
        var sixth = (await Table.GetEntityAsync<TableEntity>(subjectRef, LedgerRow.RowKeyOf(6))).Value;
        await Table.DeleteEntityAsync(subjectRef, LedgerRow.RowKeyOf(5));
        await Table.DeleteEntityAsync(subjectRef, LedgerRow.RowKeyOf(6));
        var head = (await Table.GetEntityAsync<TableEntity>(subjectRef, LedgerRow.HeadRowKey)).Value;
        head[LedgerRow.PurgedThroughSeq] = 6L;
        head[LedgerRow.AnchorHash] = sixth.GetString(LedgerRow.Hash);
        head[LedgerRow.AnchorRow] = LedgerRow.CanonicalEncoding(sixth);
        await Table.UpdateEntityAsync(head, ETag.All, TableUpdateMode.Replace);

        var finding = Assert.Single(await FindingsAsync(subjectRef, time));

        Assert.Equal((LedgerFindingKind.Deleted, LedgerRow.RowKeyOf(1)), (finding.Kind, finding.RowKey));
        Assert.Contains("row 6 is retained until", finding.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_AnchorHashForged_ReportsTheAnchorAndTheBrokenLink()
    {
        var (time, subjectRef) = await PurgedChainAsync();
        var head = (await Table.GetEntityAsync<TableEntity>(subjectRef, LedgerRow.HeadRowKey)).Value;
        head[LedgerRow.AnchorHash] = new string('a', 64);
        await Table.UpdateEntityAsync(head, ETag.All, TableUpdateMode.Replace);

        var findings = await FindingsAsync(subjectRef, time);

        Assert.Equal(
            [(LedgerFindingKind.Deleted, LedgerRow.RowKeyOf(1)), (LedgerFindingKind.Reordered, LedgerRow.RowKeyOf(5))],
            findings.Select(f => (f.Kind, f.RowKey)));
    }

    [Fact]
    public async Task Verify_ExpiredRowsDeletedByHandWithoutAnAnchor_ReportsThem()
    {
        var time = Time();
        var subjectRef = await DiscloseAsync(time, Unique("stu"), "bk-1", "bk-2");
        time.Advance(PastRetention);
        await Table.DeleteEntityAsync(subjectRef, LedgerRow.RowKeyOf(1));

        var finding = Assert.Single(await FindingsAsync(subjectRef, time));

        Assert.Equal((LedgerFindingKind.Deleted, LedgerRow.RowKeyOf(1)), (finding.Kind, finding.RowKey));
    }

    [Fact]
    public async Task Purge_BrokenChain_IsLeftUntouchedAndReported()
    {
        var time = Time();
        var subjectRef = await DiscloseAsync(time, Unique("stu"), "bk-1", "bk-2");
        var row = (await Table.GetEntityAsync<TableEntity>(subjectRef, LedgerRow.RowKeyOf(2))).Value;
        row["DataItems"] = "start_time";
        await Table.UpdateEntityAsync(row, ETag.All, TableUpdateMode.Replace);
        time.Advance(PastRetention);

        var result = await Retention(time).PurgeAsync();

        var skip = Assert.Single(result.Skipped, s => s.SubjectRef == subjectRef);
        Assert.Equal($"the chain does not verify: Edited: chain {subjectRef} row {LedgerRow.RowKeyOf(2)}: the row's content does not match its hash", skip.Reason);
        Assert.Equal(4, (await RowsAsync(subjectRef)).Count);
    }

    /// <summary>Rows 1..4 written three years ago and purged, rows 5..6 written a year later and kept.</summary>
    private async Task<(FakeTimeProvider Time, string SubjectRef)> PurgedChainAsync()
    {
        var time = Time();
        var member = Unique("stu");
        await DiscloseAsync(time, member, "bk-1", "bk-2");
        time.Advance(TimeSpan.FromDays(365));
        var subjectRef = await DiscloseAsync(time, member, "bk-3");
        time.Advance(PastRetention - TimeSpan.FromDays(365));
        await Retention(time).PurgeAsync();
        Assert.Equal([5, 6], (await RowsAsync(subjectRef)).Select(r => r.Seq));
        Assert.Empty(await FindingsAsync(subjectRef, time));
        return (time, subjectRef);
    }

    /// <summary>Intended rows for each booking, then their Succeeded rows: 2 rows per booking.</summary>
    private async Task<string> DiscloseAsync(TimeProvider time, string member, params string[] bookings)
    {
        var ledger = Ledger(fixture.Storage, time);
        var handles = await ledger.RecordIntentsAsync(bookings.Select(b => Intent(Meeting, member, SubjectRole.Student, b)));
        await ledger.RecordOutcomesAsync(handles.Select(h => new DisclosureResult(h, DisclosureOutcome.Succeeded, "zoom-1")));
        return handles[0].SubjectRef;
    }

    private LedgerRetention Retention(TimeProvider time) => new(fixture.Storage, time, LogCapture.Logger<LedgerRetention>());

    private async Task<IReadOnlyList<LedgerEntry>> RowsAsync(string subjectRef) =>
        await Ledger(fixture.Storage, Time()).ReadChainAsync(subjectRef);

    private async Task<List<LedgerFinding>> FindingsAsync(string subjectRef, TimeProvider time) =>
        (await Verifier(fixture.Storage, time).VerifyAsync()).Findings.Where(f => f.SubjectRef == subjectRef).ToList();
}
