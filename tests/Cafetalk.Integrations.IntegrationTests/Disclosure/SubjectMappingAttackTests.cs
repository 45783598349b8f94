using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Storage;
using static Cafetalk.Integrations.IntegrationTests.Disclosure.LedgerScenario;

namespace Cafetalk.Integrations.IntegrationTests.Disclosure;

/// <summary>
/// Review finding 3: an insider with table write access but not the member key re-links a member to another chain
/// through table Subjects, planted straight in Azurite; then `ledger verify` / `ledger export` run as an operator would.
/// Each test starts from an empty ledger, digest log and Subjects table.
/// </summary>
public sealed class SubjectMappingAttackTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private TableClient Subjects => fixture.Storage.Table(TableNames.Subjects);

    private string Connection => fixture.Sandbox.StorageConnectionString;

    public async Task InitializeAsync()
    {
        UseTestErasureKeysInCli();
        await ResetAsync(fixture.Storage);
        await foreach (var row in Subjects.QueryAsync<TableEntity>(select: ["PartitionKey", "RowKey"]))
        {
            await Subjects.DeleteEntityAsync(row.PartitionKey, row.RowKey);
        }
    }

    public Task DisposeAsync()
    {
        UseTestErasureKeysInCli();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task SwapTwoMembersSubjectRefs_VerifyExits1NamingBothChains_AndExportRefusesInsteadOfShowingTheOtherMembersRecords()
    {
        var (a, b) = (Unique("stu-a"), Unique("stu-b"));
        var subA = await WriteChainAsync(a, 2);
        var subB = await WriteChainAsync(b, 3);
        Assert.Equal(0, (await CliRun.RunAsync("ledger", "digest", "--connection-string", Connection)).Exit);
        var before = await CliRun.RunAsync("ledger", "verify", "--connection-string", Connection);
        await SetSubjectRefAsync(a, subB);
        await SetSubjectRefAsync(b, subA);

        var verify = await CliRun.RunAsync("ledger", "verify", "--connection-string", Connection);
        var export = await CliRun.RunAsync("ledger", "export", "--member", a, "--connection-string", Connection);

        Assert.Equal(0, before.Exit);
        Assert.Contains("subject mappings intact: 2 member mappings, 0 erased chains", before.Out, StringComparison.Ordinal);
        Assert.Equal(1, verify.Exit);
        // The chains themselves are untouched: only the mapping check sees the swap.
        Assert.Contains("ledger intact: 2 chains, 5 rows;", verify.Out, StringComparison.Ordinal);
        foreach (var chain in new[] { subA, subB })
        {
            Assert.Contains($"MappingMismatch: chain {chain}: a member's mapping names this chain but its commitment does not match: it was edited to this chain or moved from another member", verify.Out, StringComparison.Ordinal);
            Assert.Contains($"MappingMismatch: chain {chain}: no member's committed mapping names this chain and no erasure covers it", verify.Out, StringComparison.Ordinal);
        }

        Assert.Contains("subject mappings broken: 4 findings in 2 member mappings", verify.Out, StringComparison.Ordinal);
        Assert.Equal(1, export.Exit);
        Assert.Equal(string.Empty, export.Out);
        Assert.Contains($"error: The member's ledger mapping (naming chain {subB}) does not match its commitment", export.Err, StringComparison.Ordinal);
        Assert.DoesNotContain(a, export.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteAMembersMapping_VerifyReportsTheChainLeftWithoutOne_EvenAfterTheMembersNextDisclosureStartsANewChain()
    {
        var member = Unique("stu");
        var subjectRef = await WriteChainAsync(member, 2);
        await Subjects.DeleteEntityAsync(member, "subject");
        var newChain = await WriteChainAsync(member, 1);

        var verify = await CliRun.RunAsync("ledger", "verify", "--connection-string", Connection);

        Assert.NotEqual(subjectRef, newChain);
        Assert.Equal(1, verify.Exit);
        Assert.Contains($"MappingMismatch: chain {subjectRef}: no member's committed mapping names this chain and no erasure covers it: its mapping was deleted or pointed elsewhere", verify.Out, StringComparison.Ordinal);
        Assert.DoesNotContain($"chain {newChain}", verify.Out, StringComparison.Ordinal);
        Assert.Contains("subject mappings broken: 1 findings in 1 member mappings", verify.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PointAMemberAtAFreshChain_VerifyReportsBoth_AndTheMembersNextDisclosureIsRefusedNotWrittenThere()
    {
        var member = Unique("stu");
        var subjectRef = await WriteChainAsync(member, 2);
        var fresh = "sub-" + Guid.NewGuid().ToString("N");
        await SetSubjectRefAsync(member, fresh);

        var verify = await CliRun.RunAsync("ledger", "verify", "--connection-string", Connection);
        var refused = await Assert.ThrowsAsync<SubjectMappingTamperedException>(() => WriteChainAsync(member, 1));

        Assert.Equal(1, verify.Exit);
        Assert.Contains($"MappingMismatch: chain {fresh}: a member's mapping names this chain but its commitment does not match", verify.Out, StringComparison.Ordinal);
        Assert.Contains($"MappingMismatch: chain {subjectRef}: no member's committed mapping names this chain and no erasure covers it", verify.Out, StringComparison.Ordinal);
        Assert.Equal(fresh, refused.SubjectRef);
        Assert.DoesNotContain(member, refused.Message, StringComparison.Ordinal);
        // Nothing was recorded under the planted pseudonym, and the member's real chain kept its two rows.
        Assert.Empty(await Ledger(fixture.Storage, Time()).ReadChainAsync(fresh));
        Assert.Equal(2, (await Ledger(fixture.Storage, Time()).ReadChainAsync(subjectRef)).Count);
    }

    [Fact]
    public async Task ErasedMember_TheErasureMarkerCoversTheChain_VerifyPasses_ButAForgedMarkerForALiveMemberIsReported()
    {
        var (erased, live) = (Unique("stu-e"), Unique("stu-l"));
        var erasedChain = await WriteChainAsync(erased, 2);
        var liveChain = await WriteChainAsync(live, 1);
        var registry = TestErasureKeys.Registry(fixture.Storage, Time());
        await registry.MarkErasedAsync(erased);
        Assert.True(await registry.SealAsync(erased, Time().GetUtcNow().AddYears(DisclosureLedger.RetentionYears)));

        var afterErasure = await CliRun.RunAsync("ledger", "verify", "--connection-string", Connection);

        // The insider hides the live member's chain as if erased: deletes the mapping and plants a marker, keyed by the
        // pseudonym since without the member key they cannot compute a real marker's key.
        await Subjects.DeleteEntityAsync(live, "subject");
        await Subjects.UpsertEntityAsync(new TableEntity("~erased-chains", liveChain));

        var forged = await CliRun.RunAsync("ledger", "verify", "--connection-string", Connection);

        Assert.Equal(0, afterErasure.Exit);
        Assert.Contains("subject mappings intact: 1 member mappings, 1 erased chains", afterErasure.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(erasedChain, afterErasure.Out, StringComparison.Ordinal);
        Assert.Equal(1, forged.Exit);
        Assert.Contains($"MappingMismatch: chain {liveChain}: no member's committed mapping names this chain and no erasure covers it", forged.Out, StringComparison.Ordinal);
        Assert.Contains("subject mappings broken: 1 findings in 0 member mappings, 1 erased chains", forged.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ErasedMembersMappingRestoredByTheInsider_VerifyReportsTheErasureUndone()
    {
        var member = Unique("stu");
        var subjectRef = await WriteChainAsync(member, 1);
        var saved = (await Subjects.GetEntityAsync<TableEntity>(member, "subject")).Value;
        var registry = TestErasureKeys.Registry(fixture.Storage, Time());
        await registry.MarkErasedAsync(member);
        await registry.SealAsync(member, Time().GetUtcNow().AddYears(DisclosureLedger.RetentionYears));
        await Subjects.AddEntityAsync(new TableEntity(member, "subject") { ["SubjectRef"] = saved.GetString("SubjectRef"), ["SubjectCommit"] = saved.GetString("SubjectCommit") });

        var verify = await CliRun.RunAsync("ledger", "verify", "--connection-string", Connection);

        Assert.Equal(1, verify.Exit);
        Assert.Contains($"MappingMismatch: chain {subjectRef}: the chain of an erased member is mapped to a member again", verify.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TableFromBeforeCommitments_VerifyReportsEachMappingAndErasedChain_UntilCommitSubjectsMigratesIt()
    {
        // As the old code left them: a mapping without its commitment, and an erasure sealed without a chain marker.
        var (member, erased) = (Unique("stu-m"), Unique("stu-e"));
        var subjectRef = await WriteChainAsync(member, 1);
        var erasedChain = await WriteChainAsync(erased, 1);
        var row = (await Subjects.GetEntityAsync<TableEntity>(member, "subject")).Value;
        row.Remove("SubjectCommit");
        await Subjects.UpdateEntityAsync(row, ETag.All, TableUpdateMode.Replace);
        var registry = TestErasureKeys.Registry(fixture.Storage, Time());
        await registry.MarkErasedAsync(erased);
        await registry.SealAsync(erased, Time().GetUtcNow().AddYears(DisclosureLedger.RetentionYears));
        await foreach (var marker in Subjects.QueryAsync<TableEntity>(r => r.PartitionKey == "~erased-chains"))
        {
            await Subjects.DeleteEntityAsync(marker.PartitionKey, marker.RowKey);
        }

        var officeKey = Path.GetTempFileName();
        await File.WriteAllTextAsync(officeKey, TestErasureKeys.PrivacyOffice.PrivateKeyPem);
        try
        {
            var verify = await CliRun.RunAsync("ledger", "verify", "--connection-string", Connection);
            var export = await CliRun.RunAsync("ledger", "export", "--member", member, "--connection-string", Connection);
            var migrate = await CliRun.RunAsync("ledger", "commit-subjects", "--private-key", officeKey, "--connection-string", Connection);
            var again = await CliRun.RunAsync("ledger", "commit-subjects", "--private-key", officeKey, "--connection-string", Connection);
            var migrated = await CliRun.RunAsync("ledger", "verify", "--connection-string", Connection);
            var exported = await CliRun.RunAsync("ledger", "export", "--member", member, "--connection-string", Connection);

            Assert.Equal(1, verify.Exit);
            Assert.Contains($"MappingMismatch: chain {subjectRef}: a member's mapping names this chain without a commitment: it predates commitments", verify.Out, StringComparison.Ordinal);
            Assert.Contains($"MappingMismatch: chain {erasedChain}: no member's committed mapping names this chain and no erasure covers it", verify.Out, StringComparison.Ordinal);
            Assert.Equal(1, export.Exit);
            Assert.Contains("does not match its commitment", export.Err, StringComparison.Ordinal);
            Assert.Equal((0, "committed 1 member mappings to their chains; marked 1 chains of members erased before commitments\n"), (migrate.Exit, migrate.Out.ReplaceLineEndings("\n")));
            Assert.Equal((0, "committed 0 member mappings to their chains; marked 0 chains of members erased before commitments\n"), (again.Exit, again.Out.ReplaceLineEndings("\n")));
            Assert.Equal(0, migrated.Exit);
            Assert.Contains("subject mappings intact: 1 member mappings, 1 erased chains", migrated.Out, StringComparison.Ordinal);
            Assert.Equal(0, exported.Exit);
            Assert.Equal(1, System.Text.Json.JsonDocument.Parse(exported.Out).RootElement.GetProperty("disclosures").GetArrayLength());
        }
        finally
        {
            File.Delete(officeKey);
        }
    }

    [Fact]
    public async Task VerifyWithoutTheMemberKey_SaysTheMappingsWereNotChecked_AndExits3()
    {
        var member = Unique("stu");
        await WriteChainAsync(member, 1);
        await Subjects.DeleteEntityAsync(member, "subject");
        Environment.SetEnvironmentVariable("Erasure__MemberKey", null);

        var verify = await CliRun.RunAsync("ledger", "verify", "--connection-string", Connection);

        Assert.Equal(3, verify.Exit);
        Assert.Contains("ledger intact: 1 chains, 1 rows;", verify.Out, StringComparison.Ordinal);
        Assert.Contains("subject mappings NOT checked: Erasure__MemberKey is not set", verify.Out, StringComparison.Ordinal);
    }

    private async Task<string> WriteChainAsync(string member, int rows)
    {
        var handles = await Ledger(fixture.Storage, Time()).RecordIntentsAsync(Enumerable.Range(1, rows).Select(i => Intent(Meeting, member, SubjectRole.Student, $"bk-{i}")));
        return handles[0].SubjectRef;
    }

    /// <summary>The insider's edit: the row keeps its other columns (the commitment included), only the pseudonym changes.</summary>
    private async Task SetSubjectRefAsync(string member, string subjectRef)
    {
        var row = (await Subjects.GetEntityAsync<TableEntity>(member, "subject")).Value;
        row["SubjectRef"] = subjectRef;
        await Subjects.UpdateEntityAsync(row, ETag.All, TableUpdateMode.Replace);
    }
}
