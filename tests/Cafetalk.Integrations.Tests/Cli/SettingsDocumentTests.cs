using Cafetalk.Integrations.Cli.Settings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;

namespace Cafetalk.Integrations.Tests.Cli;

public sealed class SettingsDocumentTests
{
    [Fact]
    public void SettingsDoc_Table_MatchesTheOptionsClasses()
    {
        var path = Path.Combine(RepositoryRoot.Find(), SettingsDocument.DocumentPath);
        var document = File.ReadAllText(path);

        var regenerated = SettingsDocument.ReplaceSection(document, SettingsDocument.ToMarkdown());

        Assert.True(regenerated == document, $"{SettingsDocument.DocumentPath}'s settings table is stale. Regenerate it with: {SettingsDocument.RegenerateCommand}");
    }

    [Fact]
    public void BoundOptions_EveryOptionsClassOfTheCore_IsInTheTableOrConfiguredInCode()
    {
        // Options filled by code, never from settings: nothing for an operator to set (the rate budget's come from Zoom's).
        Type[] configuredInCode = [typeof(DisclosureGateOptions), typeof(SharedRateBudgetOptions)];
        var bound = SettingsDocument.BoundOptions().Select(o => o.Type).ToHashSet();

        var missing = typeof(ZoomOptions).Assembly.GetTypes()
            .Where(t => t.Name.EndsWith("Options", StringComparison.Ordinal) && t is { IsAbstract: false, IsClass: true } && !bound.Contains(t) && !configuredInCode.Contains(t))
            .Select(t => t.FullName)
            .ToList();

        Assert.True(missing.Count == 0, $"options classes without a SectionName or Section constant, so missing from the settings table: {string.Join(", ", missing)}");
    }

    [Fact]
    public void ToMarkdown_ZoomRateSetting_HasKeyTypeDefaultRangeAndItsXmlDoc()
    {
        var table = SettingsDocument.ToMarkdown();

        Assert.Contains("| `Zoom:RequestsPerSecond` | int | `20` | 1–200 | Zoom's per-second limit for the whole account (Medium category: 20/s on Pro), shared by every instance. |", table, StringComparison.Ordinal);
        Assert.Contains("| `Zoom:RetryMaxDelay` | duration (d.hh:mm:ss) |", table, StringComparison.Ordinal);
    }

    [Fact]
    public void ReplaceSection_DocumentWithoutMarkers_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => SettingsDocument.ReplaceSection("# no markers", "x"));
    }
}
