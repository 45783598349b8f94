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
            // Another key is not the office's: a bad argument, one error line, nothing on stdout.
            Assert.Equal(2, refused.Exit);
            Assert.StartsWith("error: --private-key: None of the ", refused.Err, StringComparison.Ordinal);
            Assert.Contains("sealed mappings opens with this private key", refused.Err, StringComparison.Ordinal);
            Assert.Equal(string.Empty, refused.Out);
            Assert.DoesNotContain(subjectRef, refused.Out + refused.Err, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(officeKey);
            File.Delete(otherKey);
        }
    }

    // Each bad --private-key file, the key's kind and the message's part that names what is wrong with it.
    public static TheoryData<string, string> BadKeyFiles => new()
    {
        { "missing", "no such file" },
        { "directory", "cannot be read" },
        { "empty", "not an unencrypted RSA private key" },
        { "junk", "not an unencrypted RSA private key" },
        { "public-key", "not an unencrypted RSA private key" },
        { "ec-private-key", "not an unencrypted RSA private key" },
        { "encrypted-private-key", "not an unencrypted RSA private key" },
        { "other-rsa-key", "None of the " },
    };

    [Theory]
    [MemberData(nameof(BadKeyFiles))]
    public async Task LedgerUnseal_BadKeyFile_OneErrorLineAndExit2_NothingOpened(string kind, string message)
    {
        var (student, subjectRef) = await SealOneAsync();
        var directory = Directory.CreateTempSubdirectory("unseal-");
        var keyFile = Path.Combine(directory.FullName, "office.pem");
        try
        {
            using var rsa = System.Security.Cryptography.RSA.Create(3072);
            using var ec = System.Security.Cryptography.ECDsa.Create();
            var content = kind switch
            {
                "empty" => string.Empty,
                "junk" => "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n",
                "public-key" => rsa.ExportSubjectPublicKeyInfoPem(),
                "ec-private-key" => ec.ExportPkcs8PrivateKeyPem(),
                "encrypted-private-key" => rsa.ExportEncryptedPkcs8PrivateKeyPem("pass", new System.Security.Cryptography.PbeParameters(
                    System.Security.Cryptography.PbeEncryptionAlgorithm.Aes256Cbc, System.Security.Cryptography.HashAlgorithmName.SHA256, 10_000)),
                "other-rsa-key" => rsa.ExportPkcs8PrivateKeyPem(),
                _ => null,
            };
            if (content is not null)
            {
                await File.WriteAllTextAsync(keyFile, content);
            }
            else if (kind == "directory")
            {
                Directory.CreateDirectory(keyFile);
            }

            var (exit, stdout, stderr) = await CliRun.RunAsync("ledger", "unseal", "--member", student, "--private-key", keyFile, "--connection-string", fixture.Sandbox.StorageConnectionString);

            Assert.Equal(2, exit);
            Assert.Equal(string.Empty, stdout);
            // One error line; a refusal found while parsing adds only the usual pointer to --help.
            var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l != "Run with --help for usage and an example.");
            Assert.StartsWith("error: --private-key: ", line, StringComparison.Ordinal);
            Assert.Contains(message, line, StringComparison.Ordinal);
            // Neither the member's pseudonym nor where the key lies is echoed.
            Assert.DoesNotContain(subjectRef, stderr, StringComparison.Ordinal);
            Assert.DoesNotContain(directory.FullName, stderr, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("no-key-option")]
    [InlineData("member-not-an-id")]
    [InlineData("member-empty")]
    [InlineData("export-key-file-missing")]
    public async Task LedgerUnseal_BadArguments_OneErrorLineAndExit2(string kind)
    {
        var (student, _) = await SealOneAsync();
        var keyFile = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(keyFile, TestErasureKeys.PrivacyOffice.PrivateKeyPem);
            string[] args = kind switch
            {
                "no-key-option" => ["ledger", "unseal", "--member", student],
                "export-key-file-missing" => ["ledger", "export", "--member", student, "--private-key", keyFile + ".missing"],
                "member-not-an-id" => ["ledger", "unseal", "--member", "stu/../" + student, "--private-key", keyFile],
                _ => ["ledger", "unseal", "--member", string.Empty, "--private-key", keyFile],
            };

            var (exit, stdout, stderr) = await CliRun.RunAsync([.. args, "--connection-string", fixture.Sandbox.StorageConnectionString]);

            Assert.Equal(2, exit);
            Assert.Equal(string.Empty, stdout);
            Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error: ", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(keyFile);
        }
    }

    [Fact]
    public async Task LedgerUnseal_MemberWithoutASealedMapping_OneErrorLineAndExit1()
    {
        await SealOneAsync();
        var keyFile = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(keyFile, TestErasureKeys.PrivacyOffice.PrivateKeyPem);

            var (exit, stdout, stderr) = await CliRun.RunAsync("ledger", "unseal", "--member", "stu-never-erased", "--private-key", keyFile, "--connection-string", fixture.Sandbox.StorageConnectionString);

            Assert.Equal(1, exit);
            Assert.Equal(string.Empty, stdout);
            // One error line; a refusal found while parsing adds only the usual pointer to --help.
            var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l != "Run with --help for usage and an example.");
            Assert.StartsWith("error: no sealed mapping for this member", line, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(keyFile);
        }
    }

    /// <summary>An erased member whose mapping is sealed under the office's key: the ledger holds a sealed row to try keys on.</summary>
    private async Task<(string Student, string SubjectRef)> SealOneAsync()
    {
        var time = Time();
        var student = $"stu-bad-{Guid.NewGuid():N}"[..20];
        var handles = await Ledger(fixture.Storage, time).RecordIntentsAsync(BookingConfirmed("lec-seal-bad", student, $"bk-{student}"));
        Assert.True(await TestErasureKeys.Registry(fixture.Storage, time).SealAsync(student, time.GetUtcNow().AddYears(DisclosureLedger.RetentionYears)));
        return (student, handles.First(h => h.Role == SubjectRole.Student).SubjectRef);
    }
}
