using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using static Cafetalk.Integrations.IntegrationTests.Disclosure.LedgerScenario;

namespace Cafetalk.Integrations.IntegrationTests.Erasure;

/// <summary>The privacy office's commands open an erased member's sealed mapping with the private key file, and nothing else does.</summary>
public sealed class ErasureUnsealCommandTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task LedgerUnsealAndExport_WithThePrivacyOfficeKeyFile_NameTheErasedMembersRecords_AnotherKeyIsRefused()
    {
        var time = Time();
        var student = $"stu-seal-{Guid.NewGuid():N}"[..20];
        var handles = await Ledger(fixture.Storage, time).RecordIntentsAsync(BookingConfirmed("lec-seal", student, "bk-seal"));
        var subjectRef = handles.First(h => h.Role == SubjectRole.Student).SubjectRef;
        var registry = TestErasureKeys.Registry(fixture.Storage, time);
        Assert.True(await registry.SealAsync(student, time.GetUtcNow().AddYears(DisclosureLedger.RetentionYears)));
        var officeKey = Path.GetTempFileName();
        var otherKey = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(officeKey, TestErasureKeys.PrivacyOffice.PrivateKeyPem);
            await File.WriteAllTextAsync(otherKey, PrivacyOfficeKeyPair.Generate().PrivateKeyPem);
            var connection = fixture.Sandbox.StorageConnectionString;

            var plainExport = await CliRun.RunAsync("ledger", "export", "--member", student, "--connection-string", connection);
            var unseal = await CliRun.RunAsync("ledger", "unseal", "--member", student, "--private-key", officeKey, "--connection-string", connection);
            var export = await CliRun.RunAsync("ledger", "export", "--member", student, "--private-key", officeKey, "--connection-string", connection);
            var refused = await CliRun.RunAsync("ledger", "unseal", "--member", student, "--private-key", otherKey, "--connection-string", connection);

            // Without the key the app knows nothing of the member any more.
            Assert.Equal(0, plainExport.Exit);
            Assert.Equal(0, System.Text.Json.JsonDocument.Parse(plainExport.Out).RootElement.GetProperty("disclosures").GetArrayLength());
            Assert.Equal(0, unseal.Exit);
            Assert.StartsWith($"{student} -> {subjectRef}; sealed mapping kept until ", unseal.Out, StringComparison.Ordinal);
            Assert.Equal(0, export.Exit);
            Assert.Equal(2, System.Text.Json.JsonDocument.Parse(export.Out).RootElement.GetProperty("disclosures").GetArrayLength());
            Assert.Equal(1, refused.Exit);
            Assert.Contains("sealed mappings opens with this private key", refused.Err, StringComparison.Ordinal);
            Assert.DoesNotContain(subjectRef, refused.Out + refused.Err, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(officeKey);
            File.Delete(otherKey);
        }
    }
}
