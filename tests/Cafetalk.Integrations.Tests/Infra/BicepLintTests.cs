namespace Cafetalk.Integrations.Tests.Infra;

/// <summary>Every .bicep file passes the linter with infra/bicepconfig.json's rules, and those rules really bite.</summary>
public sealed class BicepLintTests
{
    public static TheoryData<string> BicepFiles() => new(InfraBicepFiles());

    private static List<string> InfraBicepFiles() =>
        Directory.EnumerateFiles(BicepCli.InfraDirectory, "*.bicep", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(BicepCli.InfraDirectory, file))
            .Order(StringComparer.Ordinal)
            .ToList();

    [Fact]
    public void InfraFolder_HoldsMainAndItsModules()
    {
        var files = InfraBicepFiles();
        Assert.Contains("main.bicep", files);
        Assert.True(files.Count(f => f.StartsWith("app" + Path.DirectorySeparatorChar, StringComparison.Ordinal)) >= 6, string.Join(", ", files));
    }

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public void Lint_BicepFile_ReportsNothing(string file)
    {
        var lint = BicepCli.Run("lint", file);
        Assert.True(lint.ExitCode == 0, lint.ToString());
        Assert.True(string.IsNullOrWhiteSpace(lint.StandardOutput + lint.StandardError), lint.ToString());
    }

    [Fact]
    public void Lint_WithTheRepositoryConfig_FailsOnAnUnusedParameterAndASecretDefault()
    {
        var folder = Directory.CreateTempSubdirectory("bicep-lint-");
        try
        {
            File.Copy(Path.Combine(BicepCli.InfraDirectory, "bicepconfig.json"), Path.Combine(folder.FullName, "bicepconfig.json"));
            var file = Path.Combine(folder.FullName, "broken.bicep");
            File.WriteAllText(file, """
                param unused string

                @secure()
                param zoomClientSecret string = 'not-a-real-secret'

                output secretLength int = length(zoomClientSecret)
                """);

            var lint = BicepCli.Run("lint", file);

            Assert.NotEqual(0, lint.ExitCode);
            Assert.Contains("Error no-unused-params", lint.StandardOutput + lint.StandardError, StringComparison.Ordinal);
            Assert.Contains("Error secure-parameter-default", lint.StandardOutput + lint.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
