using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Blobs.Specialized;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Functions.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Storage;
using Microsoft.Azure.Functions.Worker;
using static Cafetalk.Integrations.IntegrationTests.Disclosure.LedgerScenario;

namespace Cafetalk.Integrations.IntegrationTests.Disclosure;

/// <summary>
/// An insider with the storage account's key (table and blob write) but neither the digest key nor the power to rewrite
/// the locked digest log: each attack planted straight in Azurite, then `ledger digest` / `ledger verify` run as an
/// operator would (on the clock the test signed its digests on), asserting the exit code and the finding. Each test starts
/// from an empty ledger and digest log.
/// </summary>
public sealed class LedgerDigestAttackTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private TableClient Table => fixture.Storage.Table(TableNames.DisclosureLedger);

    private string Connection => fixture.Sandbox.StorageConnectionString;

    // Every attack here breaks the ledger on purpose; a fresh ledger and log keep each test's findings its own.
    public Task InitializeAsync()
    {
        UseTestErasureKeysInCli();
        return ResetAsync(fixture.Storage);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_DigestedChainDeletedBehindAForgedPurgeAnchor_VerifyRefusesTheAnchor()
    {
        var subjectRef = await WriteChainAsync(Unique("stu"), 3);
        Assert.Equal(0, (await CliRun.RunAtAsync(Time(), "ledger", "digest", "--connection-string", Connection)).Exit);

        // The forger deletes every row and leaves an anchor one row past the digested head, built to agree with itself:
        // a row 4 of this chain, hashed honestly, retained until a date long past.
        var rows = await RowsAsync(subjectRef);
        var fake = new TableEntity(rows[^1]) { RowKey = LedgerRow.RowKeyOf(4) };
        fake[LedgerRow.Seq] = 4L;
        fake[LedgerRow.RetainUntilUtc] = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
        fake[LedgerRow.PrevHash] = rows[^1].GetString(LedgerRow.Hash);
        var fakeHash = LedgerRow.ComputeHash(fake);
        foreach (var row in rows)
        {
            await Table.DeleteEntityAsync(row.PartitionKey, row.RowKey);
        }

        await Table.UpdateEntityAsync(new TableEntity(subjectRef, LedgerRow.HeadRowKey)
        {
            [LedgerRow.Seq] = 4L,
            [LedgerRow.Hash] = fakeHash,
            [LedgerRow.PurgedThroughSeq] = 4L,
            [LedgerRow.AnchorHash] = fakeHash,
            [LedgerRow.AnchorRow] = LedgerRow.CanonicalEncoding(fake),
            [LedgerRow.PurgedAtUtc] = Time().GetUtcNow(),
        }, ETag.All, TableUpdateMode.Replace);

        var verify = await CliRun.RunAtAsync(Time(), "ledger", "verify", "--connection-string", Connection);

        Assert.Equal(1, verify.Exit);
        Assert.Contains($"Deleted: chain {subjectRef} row {LedgerRow.RowKeyOf(1)}: rows 1..4 are gone and no signed digest vouches for the purge anchor", verify.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task B_DigestedRowEditedAndChainRecomputed_DigestMarksTheChainBrokenAndVerifyReportsIt()
    {
        var subjectRef = await WriteChainAsync(Unique("stu"), 3);
        Assert.Equal(0, (await CliRun.RunAtAsync(Time(), "ledger", "digest", "--connection-string", Connection)).Exit);
        await RewriteRowAsync(subjectRef, 2);

        var digest = await CliRun.RunAtAsync(Time(), "ledger", "digest", "--connection-string", Connection);
        var verify = await CliRun.RunAtAsync(Time(), "ledger", "verify", "--connection-string", Connection);

        var finding = $"DigestMismatch: chain {subjectRef} row {LedgerRow.RowKeyOf(3)}: row 3 is not the row digest line 1 of ";
        Assert.Equal(1, digest.Exit);
        Assert.Contains("with 1 broken chain(s) signed at their last trusted heads and marked broken: 1 findings in the ledger's chains", digest.Out, StringComparison.Ordinal);
        Assert.Contains(finding, digest.Out, StringComparison.Ordinal);
        // The new line does not sign the rewritten chain: it carries the head line 1 recorded, marked broken.
        var log = await Digests().ReadAsync();
        Assert.Equal(2, log.Lines.Count);
        var carried = Assert.Single(log.Lines[1].Heads);
        Assert.Equal(Assert.Single(log.Lines[0].Heads) with { Broken = nameof(LedgerFindingKind.DigestMismatch) }, carried);
        Assert.Equal(1, verify.Exit);
        Assert.Contains(finding, verify.Out, StringComparison.Ordinal);
        Assert.Contains("recorded: the chain was rewritten from there or before", verify.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task B_TimerDigestOverARewrittenChain_FailsTheRunWithAnErrorLog_ButWritesTheChainMarkedBroken()
    {
        var subjectRef = await WriteChainAsync(Unique("stu"), 3);
        await Digests().WriteAsync();
        await RewriteRowAsync(subjectRef, 2);
        var function = new LedgerDigestFunction(Digests(), Verifier(fixture.Storage), Ledger(fixture.Storage, Time()),
            Microsoft.Extensions.Options.Options.Create(new DisclosureLedgerOptions()), LogCapture.Logger<LedgerDigestFunction>());

        var refused = await Assert.ThrowsAsync<LedgerBrokenException>(() => function.Run(new TimerInfo(), CancellationToken.None));

        Assert.Equal(LedgerFindingKind.DigestMismatch, Assert.Single(refused.Verification.ChainFindings).Kind);
        var log = await Digests().ReadAsync();
        Assert.Equal(2, log.Lines.Count);
        Assert.Equal(refused.Written.Digest, log.LastTrusted!.Digest!.Digest);
        Assert.Equal((subjectRef, 3L, nameof(LedgerFindingKind.DigestMismatch)), Assert.Single(log.LastTrusted.Heads) is var h ? (h.SubjectRef, h.Seq, h.Broken) : default);
        Assert.Contains(LogCapture.Snapshot(), l => l.Text.Contains($"Ledger digest {refused.Written.Digest} written with the broken chains marked at their last trusted heads: 1 finding(s) in the ledger's chains", StringComparison.Ordinal));
    }

    [Fact]
    public async Task C_TailDigestedThenDeletedWithTheHeadRewound_NextDigestFailsAndVerifyReportsIt()
    {
        var member = Unique("stu");
        var subjectRef = await WriteChainAsync(member, 3);
        await Digests().WriteAsync();
        await WriteChainAsync(member, 2); // rows 4 and 5, after the first digest
        await Digests().WriteAsync();      // the next digest, at most one interval later, records them
        var rows = await RowsAsync(subjectRef);
        await Table.DeleteEntityAsync(subjectRef, LedgerRow.RowKeyOf(4));
        await Table.DeleteEntityAsync(subjectRef, LedgerRow.RowKeyOf(5));
        await Table.UpdateEntityAsync(new TableEntity(subjectRef, LedgerRow.HeadRowKey) { [LedgerRow.Seq] = 3L, [LedgerRow.Hash] = rows[2].GetString(LedgerRow.Hash) }, ETag.All, TableUpdateMode.Replace);

        var digest = await CliRun.RunAtAsync(Time(), "ledger", "digest", "--connection-string", Connection);
        var verify = await CliRun.RunAtAsync(Time(), "ledger", "verify", "--connection-string", Connection);

        var finding = $"DigestMismatch: chain {subjectRef} row {LedgerRow.RowKeyOf(5)}: row 5, recorded by digest line 2 of ";
        Assert.Equal(1, digest.Exit);
        Assert.Contains(finding, digest.Out, StringComparison.Ordinal);
        Assert.Equal(1, verify.Exit);
        Assert.Contains(finding, verify.Out, StringComparison.Ordinal);
        Assert.Contains("is missing", verify.Out, StringComparison.Ordinal);
        // The window in which such a tail can still go unseen: rows not yet in a digest, at most one schedule interval.
        Assert.Equal("0 */15 * * * *", fixture.Sandbox.Settings()["LedgerDigestSchedule"]);
    }

    [Fact]
    public async Task C_TailDeletedInsideTheWindowButHeadLeft_NextDigestFailsKeepingTheSignedHead()
    {
        var member = Unique("stu");
        var subjectRef = await WriteChainAsync(member, 3);
        await Digests().WriteAsync();
        await WriteChainAsync(member, 2);
        await Table.DeleteEntityAsync(subjectRef, LedgerRow.RowKeyOf(5));

        var digest = await CliRun.RunAtAsync(Time(), "ledger", "digest", "--connection-string", Connection);

        Assert.Equal(1, digest.Exit);
        Assert.Contains($"Deleted: chain {subjectRef} row {LedgerRow.RowKeyOf(5)}: the last row 5 is missing", digest.Out, StringComparison.Ordinal);
        // Rows 4 and 5 were never signed: the new line keeps the chain at row 3, where line 1 left it, marked broken.
        var last = (await Digests().ReadAsync()).LastTrusted!;
        Assert.Equal(2, last.Number);
        Assert.Equal((3L, nameof(LedgerFindingKind.Deleted)), (Assert.Single(last.Heads).Seq, last.Heads[0].Broken));
    }

    [Fact]
    public async Task D_ChainCreatedAfterADigestNamedByTheNextThenDeleted_DigestFailsAndVerifyReportsIt()
    {
        await WriteChainAsync(Unique("stu"), 2);
        await Digests().WriteAsync();
        var late = await WriteChainAsync(Unique("stu"), 2);
        await Digests().WriteAsync(); // names the new chain
        foreach (var row in await RowsAsync(late, includeHead: true))
        {
            await Table.DeleteEntityAsync(row.PartitionKey, row.RowKey);
        }

        var digest = await CliRun.RunAtAsync(Time(), "ledger", "digest", "--connection-string", Connection);
        var verify = await CliRun.RunAtAsync(Time(), "ledger", "verify", "--connection-string", Connection);

        var finding = $"DigestMismatch: chain {late}: the whole chain is gone: digest line 2 of ";
        Assert.Equal(1, digest.Exit);
        Assert.Contains(finding, digest.Out, StringComparison.Ordinal);
        Assert.Equal(3, (await Digests().ReadAsync()).Lines.Count);
        Assert.Equal(1, verify.Exit);
        Assert.Contains(finding, verify.Out, StringComparison.Ordinal);
        Assert.Contains("recorded it up to row 2", verify.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task E_ForgedDigestLinesAppendedOverARewrittenChain_VerifyReportsEachLineAndTheChain()
    {
        var subjectRef = await WriteChainAsync(Unique("stu"), 3);
        var genuine = await Digests().WriteAsync();
        await RewriteRowAsync(subjectRef, 2);

        // Three forgeries, each a well-formed line over the rewritten heads that follows the one before: unsigned, signed
        // with the forger's own key, and carrying the genuine line's key id and signature.
        var forgersKey = new EphemeralLedgerDigestKey();
        var unsigned = await AppendForgedLineAsync(genuine.Digest, signature: null);
        var ownKey = await AppendForgedLineAsync(unsigned, await forgersKey.SignAsync(new byte[32], CancellationToken.None));
        await AppendForgedLineAsync(ownKey, new DigestSignature(genuine.KeyId!, genuine.Algorithm!, System.Buffers.Text.Base64Url.DecodeFromChars(genuine.Signature!)));

        var verify = await CliRun.RunAtAsync(Time(), "ledger", "verify", "--connection-string", Connection);

        Assert.Equal(1, verify.Exit);
        Assert.Contains("DigestForged: digest log: digest line 2: the line is not signed", verify.Out, StringComparison.Ordinal);
        Assert.Contains($"DigestForged: digest log: digest line 3: the line is signed by key {forgersKey.KeyId}, which is not the ledger's digest key", verify.Out, StringComparison.Ordinal);
        Assert.Contains("DigestForged: digest log: digest line 4: the signature does not verify", verify.Out, StringComparison.Ordinal);
        Assert.Contains($"DigestMismatch: chain {subjectRef} row {LedgerRow.RowKeyOf(3)}: row 3 is not the row digest line 1 of ", verify.Out, StringComparison.Ordinal);
        Assert.Contains("ledger broken: 4 findings", verify.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task E_ForgedLineAloneDoesNotStopDigests_TheNextLineFollowsTheLastTrustedOne()
    {
        await WriteChainAsync(Unique("stu"), 2);
        var genuine = await Digests().WriteAsync();
        await AppendForgedLineAsync(genuine.Digest, signature: null);

        var next = await Digests().WriteAsync();
        var log = await Digests().ReadAsync();

        Assert.Equal(genuine.Digest, next.PreviousDigest);
        Assert.Equal([true, false, true], log.Lines.Select(l => l.Trusted));
        var verification = await Verifier(fixture.Storage).VerifyAsync();
        Assert.Equal("digest line 2: the line is not signed", Assert.Single(verification.Findings).Detail);
    }

    [Fact]
    public async Task F_OldDigestLineContradictedByTheRows_ReportedThoughTheLastLineAgrees()
    {
        var subjectRef = await WriteChainAsync(Unique("stu"), 3);
        await Digests().WriteAsync();
        await RewriteRowAsync(subjectRef, 2);
        // A genuinely signed later line over the rewritten chain, as a version that digested without verifying wrote them.
        var heads = (await Verifier(fixture.Storage).VerifyAsync()).Heads;
        await Digests().AppendAsync(heads, null, CancellationToken.None);

        var verify = await CliRun.RunAtAsync(Time(), "ledger", "verify", "--connection-string", Connection);

        Assert.Equal(1, verify.Exit);
        Assert.All((await Digests().ReadAsync()).Lines, l => Assert.True(l.Trusted));
        Assert.Contains($"DigestMismatch: chain {subjectRef} row {LedgerRow.RowKeyOf(3)}: row 3 is not the row digest line 1 of ", verify.Out, StringComparison.Ordinal);
        Assert.Contains("ledger broken: 1 findings", verify.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public async Task G_FakeExpiredTailRowDigestedThenChainErasedBehindIt_VerifyAndDigestReportIt(int forgedRowsAfter)
    {
        var subjectRef = await WriteChainAsync(Unique("stu"), 3);
        await Digests().WriteAsync();

        // Inside the accepted window, the insider appends a backdated row 4, and the next digest records it like any new row.
        var fake = await PlantBackdatedTailRowAsync(subjectRef);
        var fakeHash = fake.GetString(LedgerRow.Hash)!;
        await Digests().WriteAsync();

        // Then every row goes behind an anchor on that digested row, optionally followed by a made-up history.
        foreach (var row in await RowsAsync(subjectRef))
        {
            await Table.DeleteEntityAsync(row.PartitionKey, row.RowKey);
        }

        var (lastSeq, lastHash) = (4L, fakeHash);
        for (var i = 0; i < forgedRowsAfter; i++)
        {
            var forged = new TableEntity(fake) { RowKey = LedgerRow.RowKeyOf(lastSeq + 1) };
            forged[LedgerRow.Seq] = lastSeq + 1;
            forged[LedgerRow.PrevHash] = lastHash;
            forged[LedgerRow.Hash] = lastHash = LedgerRow.ComputeHash(forged);
            await Table.AddEntityAsync(forged);
            lastSeq++;
        }

        await Table.UpdateEntityAsync(new TableEntity(subjectRef, LedgerRow.HeadRowKey)
        {
            [LedgerRow.Seq] = lastSeq,
            [LedgerRow.Hash] = lastHash,
            [LedgerRow.PurgedThroughSeq] = 4L,
            [LedgerRow.AnchorHash] = fakeHash,
            [LedgerRow.AnchorRow] = LedgerRow.CanonicalEncoding(fake),
            [LedgerRow.PurgedAtUtc] = Time().GetUtcNow(),
        }, ETag.All, TableUpdateMode.Replace);

        var digest = await CliRun.RunAtAsync(Time(), "ledger", "digest", "--connection-string", Connection);
        var verify = await CliRun.RunAtAsync(Time(), "ledger", "verify", "--connection-string", Connection);

        var finding = $"Deleted: chain {subjectRef} row {LedgerRow.RowKeyOf(1)}: rows 1..4 are gone and no signed digest vouches for the purge anchor: row 4 was first signed after 2026-03-01T09:00:00.000Z, less than 3 years ago";
        Assert.Equal(1, digest.Exit);
        Assert.Contains(finding, digest.Out, StringComparison.Ordinal);
        // The digest signs the chain only as line 2 left it (anchorless, at row 4), marked broken: the forged anchor stays unvouched.
        var log = await Digests().ReadAsync();
        Assert.Equal(3, log.Lines.Count);
        Assert.Equal((4L, fakeHash, 0L, nameof(LedgerFindingKind.Deleted)), Assert.Single(log.Lines[2].Heads) is var h ? (h.Seq, h.Hash, h.PurgedThroughSeq, h.Broken) : default);
        Assert.Equal(1, verify.Exit);
        Assert.Contains(finding, verify.Out, StringComparison.Ordinal);
        Assert.Contains("ledger broken: 1 findings", verify.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task G_PurgeAfterThreeYears_LeavesABackdatedRowThatOnlyARecentDigestRecorded()
    {
        var time = Time();
        var member = Unique("stu");
        var subjectRef = (await Ledger(fixture.Storage, time).RecordIntentsAsync(Enumerable.Range(1, 3).Select(i => Intent(Meeting, member, SubjectRole.Student, $"bk-{i}"))))[0].SubjectRef;
        await new LedgerDigests(fixture.Storage, time).WriteAsync();
        time.Advance(TimeSpan.FromDays((365 * 3) + 2));
        await new LedgerDigests(fixture.Storage, time).WriteAsync(); // the digest every 15 minutes, just before the plant
        await PlantBackdatedTailRowAsync(subjectRef);
        await new LedgerDigests(fixture.Storage, time).WriteAsync();

        var result = await new LedgerRetention(fixture.Storage, time, Microsoft.Extensions.Logging.Abstractions.NullLogger<LedgerRetention>.Instance).PurgeAsync();

        // Rows 1..3 are past retention by the signer's clock; row 4 only by its own say-so.
        Assert.Equal(3, result.RowsPurged);
        Assert.Equal([4L], (await RowsAsync(subjectRef)).Select(r => r.GetInt64(LedgerRow.Seq)));
        Assert.Empty((await Verifier(fixture.Storage, time).VerifyAsync()).Findings);
    }

    [Fact]
    public async Task H_ShortKeyRowsAfterTheTail_VerifyReportsEachAndTheDigestFails()
    {
        var member = Unique("stu");
        var subjectRef = await WriteChainAsync(member, 4);
        await Digests().WriteAsync();

        // "3" and "4" sort after every 19-digit key: a fake outcome "Failed" for disclosure 1 standing at row 3, then an
        // exact copy of row 4 so the chain still ends on the head's row.
        var rows = await RowsAsync(subjectRef);
        var failed = new TableEntity(rows[2]) { RowKey = "3" };
        failed[LedgerRow.Outcome] = nameof(DisclosureOutcome.Failed);
        failed[LedgerRow.IntentSeq] = 1L;
        failed[LedgerRow.Hash] = LedgerRow.ComputeHash(failed);
        await Table.AddEntityAsync(failed);
        await Table.AddEntityAsync(new TableEntity(rows[3]) { RowKey = "4" });

        var verify = await CliRun.RunAtAsync(Time(), "ledger", "verify", "--connection-string", Connection);
        var digest = await CliRun.RunAtAsync(Time(), "ledger", "digest", "--connection-string", Connection);

        Assert.Equal(1, verify.Exit);
        Assert.Contains($"Edited: chain {subjectRef} row 3: a row with a key that is not the 19-digit form of row 3", verify.Out, StringComparison.Ordinal);
        Assert.Contains($"Edited: chain {subjectRef} row 4: a row with a key that is not the 19-digit form of row 4", verify.Out, StringComparison.Ordinal);
        Assert.Contains("ledger broken: 2 findings", verify.Out, StringComparison.Ordinal);
        Assert.Equal(1, digest.Exit);
        Assert.Equal(nameof(LedgerFindingKind.Edited), Assert.Single((await Digests().ReadAsync()).Lines[1].Heads).Broken);
    }

    [Fact]
    public async Task I_FragmentWithoutANewlineAppendedToTheLog_TheNextGenuineLineStaysItsOwnAndTrusted()
    {
        await WriteChainAsync(Unique("stu"), 2);
        await Digests().WriteAsync();
        using (var junk = new MemoryStream("x"u8.ToArray()))
        {
            await fixture.Storage.BlobContainer(BlobContainerNames.LedgerDigests).GetAppendBlobClient(LedgerDigests.LogBlobName(Time().GetUtcNow())).AppendBlockAsync(junk);
        }

        var next = await Digests().WriteAsync();
        var verify = await CliRun.RunAtAsync(Time(), "ledger", "verify", "--connection-string", Connection);

        var log = await Digests().ReadAsync();
        Assert.Equal([true, false, true], log.Lines.Select(l => l.Trusted));
        Assert.Equal(next.Digest, log.LastTrusted!.Digest!.Digest);
        Assert.Equal(1, verify.Exit);
        Assert.Contains("DigestForged: digest log: digest line 2: the line is not a digest line", verify.Out, StringComparison.Ordinal);
        Assert.Contains("ledger broken: 1 findings", verify.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task J_DigestJobStopped_VerifyReportsTheNewestSignedLineAsStaleUntilTheJobRunsAgain()
    {
        var time = Time();
        await WriteChainAsync(Unique("stu"), 2);
        await new LedgerDigests(fixture.Storage, time).WriteAsync();

        time.Advance(TimeSpan.FromMinutes(30));
        var withinBound = await CliRun.RunAtAsync(time, "ledger", "verify", "--connection-string", Connection);
        // The insider holds the timer's lease: no run, so no failed run either, for an hour.
        time.Advance(TimeSpan.FromMinutes(30));
        var stale = await CliRun.RunAtAsync(time, "ledger", "verify", "--connection-string", Connection);
        var function = new LedgerDigestFunction(new LedgerDigests(fixture.Storage, time), Verifier(fixture.Storage, time), Ledger(fixture.Storage, time),
            Microsoft.Extensions.Options.Options.Create(new DisclosureLedgerOptions()), LogCapture.Logger<LedgerDigestFunction>());
        await function.Run(new TimerInfo(), CancellationToken.None);
        var resumed = await CliRun.RunAtAsync(time, "ledger", "verify", "--connection-string", Connection);

        const string Finding = "DigestStale: digest log: the newest signed digest line (line 1, of 2026-03-01 09:00Z) is 60 min old, more than the 45 min allowed (Ledger__DigestMaxAge)";
        Assert.Equal(0, withinBound.Exit);
        Assert.Equal(1, stale.Exit);
        Assert.Contains(Finding, stale.Out, StringComparison.Ordinal);
        Assert.Contains("ledger broken: 1 findings", stale.Out, StringComparison.Ordinal);
        // The job that runs again reports the gap in its log and signs a fresh line, which ends the finding.
        Assert.Contains(LogCapture.Snapshot(), l => l.Text.Contains("Ledger verification finding: " + Finding, StringComparison.Ordinal));
        Assert.Equal(0, resumed.Exit);
    }

    [Fact]
    public async Task K_OneChainBroken_TheTimerStillSignsTheOthers_SoARewriteOfTheirNewRowsIsReported()
    {
        var chainA = await WriteChainAsync(Unique("stu"), 3);
        var memberB = Unique("stu");
        var chainB = await WriteChainAsync(memberB, 2);
        await Digests().WriteAsync();
        await RewriteRowAsync(chainA, 2);
        await WriteChainAsync(memberB, 2); // rows 3 and 4 of B, written while A is broken
        var function = new LedgerDigestFunction(Digests(), Verifier(fixture.Storage), Ledger(fixture.Storage, Time()),
            Microsoft.Extensions.Options.Options.Create(new DisclosureLedgerOptions()), LogCapture.Logger<LedgerDigestFunction>());

        // The run fails loudly (the alert), but its line signs B's new rows.
        var broken = await Assert.ThrowsAsync<LedgerBrokenException>(() => function.Run(new TimerInfo(), CancellationToken.None));
        await RewriteRowAsync(chainB, 3);
        var verify = await CliRun.RunAtAsync(Time(), "ledger", "verify", "--connection-string", Connection);

        Assert.Equal(chainA, Assert.Single(broken.Verification.ChainFindings).SubjectRef);
        Assert.Equal(1, verify.Exit);
        Assert.Contains($"DigestMismatch: chain {chainB} row {LedgerRow.RowKeyOf(4)}: row 4 is not the row digest line 2 of ", verify.Out, StringComparison.Ordinal);
        Assert.Contains($"DigestMismatch: chain {chainA} row {LedgerRow.RowKeyOf(3)}: row 3 is not the row digest line 1 of ", verify.Out, StringComparison.Ordinal);
        Assert.Contains("ledger broken: 2 findings", verify.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task L_WholeDigestLogDeleted_VerifyReportsItFromTheHeadListsLeft_AlsoAfterANewLogStarts()
    {
        var time = Time();
        var member = Unique("stu");
        await WriteChainAsync(member, 2);
        await new LedgerDigests(fixture.Storage, time).WriteAsync();
        await WriteChainAsync(member, 1);
        await new LedgerDigests(fixture.Storage, time).WriteAsync();
        var container = fixture.Storage.BlobContainer(BlobContainerNames.LedgerDigests);
        await container.DeleteBlobAsync(LedgerDigests.LogBlobName(time.GetUtcNow()));

        var missing = await CliRun.RunAtAsync(time, "ledger", "verify", "--connection-string", Connection);
        time.Advance(TimeSpan.FromMinutes(15));
        await new LedgerDigests(fixture.Storage, time).WriteAsync(); // the next run starts a log of its own
        var restarted = await CliRun.RunAtAsync(time, "ledger", "verify", "--connection-string", Connection);

        Assert.Equal(1, missing.Exit);
        Assert.Contains("DigestMissing: digest log: the digest log is missing, but 2 head list(s) of its lines remain (first heads/20260301T090000000Z-", missing.Out, StringComparison.Ordinal);
        Assert.Equal(1, restarted.Exit);
        Assert.Contains("DigestMissing: digest log: 2 head list(s) (first heads/20260301T090000000Z-", restarted.Out, StringComparison.Ordinal);
        Assert.Contains("are named by no line left in the log: the log blobs that held their lines are gone", restarted.Out, StringComparison.Ordinal);
        Assert.Contains("ledger broken: 1 findings", restarted.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task L_LogRotatesMonthly_EachBlobFollowsTheLast_AndAMissingEarlierBlobIsReported()
    {
        var time = Time();
        var member = Unique("stu");
        await WriteChainAsync(member, 2);
        var march = await new LedgerDigests(fixture.Storage, time).WriteAsync();
        time.Advance(TimeSpan.FromDays(31));
        var april = await new LedgerDigests(fixture.Storage, time).WriteAsync();
        var intact = await CliRun.RunAtAsync(time, "ledger", "verify", "--connection-string", Connection);
        await fixture.Storage.BlobContainer(BlobContainerNames.LedgerDigests).DeleteBlobAsync("digests/2026-03/0000.log");

        var verify = await CliRun.RunAtAsync(time, "ledger", "verify", "--connection-string", Connection);

        Assert.Equal(("digests/2026-03/0000.log", "digests/2026-04/0000.log"), (march.Blob, april.Blob));
        Assert.Equal(march.Digest, april.PreviousDigest);
        Assert.Equal(0, intact.Exit);
        Assert.Contains("checked against 2 signed digest line(s)", intact.Out, StringComparison.Ordinal);
        Assert.Equal(1, verify.Exit);
        Assert.Contains("DigestMissing: digest log: digest line 1: the line does not start the log: the lines before it are gone, less than the retention period after it was written", verify.Out, StringComparison.Ordinal);
        Assert.Contains("DigestMissing: digest log: 1 head list(s) (first heads/20260301T090000000Z-", verify.Out, StringComparison.Ordinal);
        Assert.Contains("ledger broken: 2 findings", verify.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("BlockCountExceedsLimit")]
    [InlineData("BlobIsSealed")]
    public async Task M_LogBlobRefusesAppends409_TheDigestRollsOverToTheNextPart_AndTheChainContinues(string errorCode)
    {
        await WriteChainAsync(Unique("stu"), 2);
        var first = await Digests().WriteAsync();
        var refuser = new RefuseAppends(first.Blob!, errorCode);

        var next = await new LedgerDigests(fixture.Storage.WithRequestPolicy(refuser), Time()).WriteAsync();
        var verify = await CliRun.RunAtAsync(Time(), "ledger", "verify", "--connection-string", Connection);

        Assert.Equal(("digests/2026-03/0000.log", "digests/2026-03/0001.log"), (first.Blob, next.Blob));
        Assert.Equal(1, refuser.Refused);
        Assert.Equal(first.Digest, next.PreviousDigest);
        Assert.Equal([true, true], (await Digests().ReadAsync()).Lines.Select(l => l.Trusted));
        Assert.Equal(0, verify.Exit);
        Assert.Contains("checked against 2 signed digest line(s)", verify.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Untouched_DigestThenVerify_PassesWithEveryLineChecked()
    {
        var member = Unique("stu");
        await WriteChainAsync(member, 2);
        Assert.Equal(0, (await CliRun.RunAtAsync(Time(), "ledger", "digest", "--connection-string", Connection)).Exit);
        await WriteChainAsync(member, 1);
        Assert.Equal(0, (await CliRun.RunAtAsync(Time(), "ledger", "digest", "--connection-string", Connection)).Exit);

        var verify = await CliRun.RunAtAsync(Time(), "ledger", "verify", "--connection-string", Connection);

        Assert.Equal(0, verify.Exit);
        Assert.Contains("ledger intact: 1 chains, 3 rows; checked against 2 signed digest line(s)", verify.Out, StringComparison.Ordinal);
    }

    private LedgerDigests Digests() => new(fixture.Storage, Time());

    private async Task<string> WriteChainAsync(string member, int rows)
    {
        var handles = await Ledger(fixture.Storage, Time()).RecordIntentsAsync(Enumerable.Range(1, rows).Select(i => Intent(Meeting, member, SubjectRole.Student, $"bk-{i}")));
        return handles[0].SubjectRef;
    }

    private async Task<List<TableEntity>> RowsAsync(string subjectRef, bool includeHead = false)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in Table.QueryAsync<TableEntity>(e => e.PartitionKey == subjectRef))
        {
            if (includeHead || !LedgerRow.IsHead(row))
            {
                rows.Add(row);
            }
        }

        return rows;
    }

    /// <summary>Edits row <paramref name="seq"/> and recomputes every later hash and the head with the row hash anyone can compute.</summary>
    private async Task RewriteRowAsync(string subjectRef, int seq)
    {
        var chain = await RowsAsync(subjectRef);
        chain[seq - 1]["DataItems"] = "start_time";
        var prev = chain[seq - 2].GetString(LedgerRow.Hash);
        foreach (var row in chain.Skip(seq - 1))
        {
            row[LedgerRow.PrevHash] = prev;
            row[LedgerRow.Hash] = prev = LedgerRow.ComputeHash(row);
            await Table.UpdateEntityAsync(row, ETag.All, TableUpdateMode.Replace);
        }

        await Table.UpdateEntityAsync(new TableEntity(subjectRef, LedgerRow.HeadRowKey) { [LedgerRow.Seq] = (long)chain.Count, [LedgerRow.Hash] = prev }, ETag.All, TableUpdateMode.Replace);
    }

    /// <summary>Appends a row after the chain's last that links to it honestly but claims 2021 and retention until 2024, and moves the head onto it.</summary>
    private async Task<TableEntity> PlantBackdatedTailRowAsync(string subjectRef)
    {
        var rows = await RowsAsync(subjectRef);
        var seq = rows[^1].GetInt64(LedgerRow.Seq)!.Value + 1;
        var fake = new TableEntity(rows[^1]) { RowKey = LedgerRow.RowKeyOf(seq) };
        fake[LedgerRow.Seq] = seq;
        fake[LedgerRow.ProvidedAtUtc] = new DateTimeOffset(2021, 1, 1, 0, 0, 0, TimeSpan.Zero);
        fake[LedgerRow.RetainUntilUtc] = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        fake[LedgerRow.PrevHash] = rows[^1].GetString(LedgerRow.Hash);
        fake[LedgerRow.Hash] = LedgerRow.ComputeHash(fake);
        await Table.AddEntityAsync(fake);
        await Table.UpdateEntityAsync(new TableEntity(subjectRef, LedgerRow.HeadRowKey) { [LedgerRow.Seq] = seq, [LedgerRow.Hash] = fake.GetString(LedgerRow.Hash) }, ETag.All, TableUpdateMode.Merge);
        return fake;
    }

    /// <summary>Appends a well-formed line over the heads now in the table, following <paramref name="previous"/>; returns its digest.</summary>
    private async Task<string> AppendForgedLineAsync(string previous, DigestSignature? signature)
    {
        var heads = (await Verifier(fixture.Storage).VerifyAsync()).Heads;
        var bytes = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(heads, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web));
        var container = fixture.Storage.BlobContainer(BlobContainerNames.LedgerDigests);
        var headsBlob = $"heads/forged-{Guid.NewGuid():N}.json";
        await container.GetBlobClient(headsBlob).UploadAsync(BinaryData.FromBytes(bytes));
        var line = new LedgerDigest(Time().GetUtcNow(), heads.Count, LedgerDigests.Compute(previous, bytes), previous, headsBlob,
            signature?.KeyId, signature?.Algorithm, signature is null ? null : System.Buffers.Text.Base64Url.EncodeToString(signature.Value));
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(line, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)) + "\n"));
        await container.GetAppendBlobClient(LedgerDigests.LogBlobName(line.CreatedAtUtc)).AppendBlockAsync(stream);
        return line.Digest;
    }
    /// <summary>Answers every append to one log blob as Azure does once it holds 50,000 blocks or is sealed: 409 with that error code.</summary>
    private sealed class RefuseAppends(string blobName, string errorCode) : HttpPipelinePolicy
    {
        private int _refused;

        public int Refused => Volatile.Read(ref _refused);

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            var uri = message.Request.Uri;
            if (message.Request.Method == RequestMethod.Put && uri.Query.Contains("comp=appendblock", StringComparison.Ordinal)
                && Uri.UnescapeDataString(uri.Path).EndsWith("/" + blobName, StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _refused);
                message.Response = new Fuzzing.PoisonWritesInMemory.InMemoryResponse(409, message.Request.ClientRequestId, string.Empty, ("x-ms-error-code", errorCode));
                return;
            }

            await ProcessNextAsync(message, pipeline);
        }
    }
}
