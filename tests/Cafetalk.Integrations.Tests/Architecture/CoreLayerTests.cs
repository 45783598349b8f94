using Xunit.Abstractions;

namespace Cafetalk.Integrations.Tests.Architecture;

/// <summary>
/// The core's folders are layers (<see cref="CoreLayers.Order"/>): shared plumbing ← Disclosure ← Bookings ← one folder
/// per provider ← erasure ← operations. Any use of a type or member against that order fails here, with file and line.
/// </summary>
public sealed class CoreLayerTests(ITestOutputHelper output)
{
    private static readonly Lazy<IReadOnlyList<FolderReference>> CoreReferences = new(() => FolderReferences.Find(FolderReferences.CoreSources()));

    [Fact]
    public void EveryFolderOfTheCore_IsInALayer()
    {
        var folders = Directory.EnumerateDirectories(FolderReferences.CoreDirectory)
            .Select(Path.GetFileName)
            .Where(name => name is not ("bin" or "obj"))
            .ToList();

        Assert.DoesNotContain(folders, folder => CoreLayers.RankOf(folder!) < 0);
    }

    [Fact]
    public void NoFolder_UsesAFolderOfItsOwnOrAHigherLayer()
    {
        var graph = CoreReferences.Value.GroupBy(r => (r.From, r.To)).OrderBy(g => CoreLayers.RankOf(g.Key.From)).ThenBy(g => g.Key.From).ThenBy(g => g.Key.To);
        foreach (var edge in graph)
        {
            output.WriteLine($"{Shown(edge.Key.From)} -> {Shown(edge.Key.To)} ({edge.Count()} uses)");
        }

        var violations = CoreReferences.Value
            .Where(r => CoreLayers.Forbids(r.From, r.To) is not null)
            .Select(r => $"{r}: {CoreLayers.Forbids(r.From, r.To)}")
            .ToList();

        Assert.True(violations.Count == 0, $"{violations.Count} uses against the layers:\n{string.Join('\n', violations)}");
    }

    [Fact]
    public void TheCheck_SeesTheUsesThatAreAllowed()
    {
        // A check that found nothing would pass every layering: these uses are known to exist.
        var edges = CoreReferences.Value.Select(r => (r.From, r.To)).ToHashSet();

        Assert.Contains(("Disclosure", "Storage"), edges);
        Assert.Contains(("Zoom", "Bookings"), edges);
        Assert.Contains(("Zoom", "Disclosure"), edges);
        Assert.Contains((CoreLayers.Root, "Zoom"), edges);
    }

    [Fact]
    public void OnlyBookingRows_OpensTheBookingsTable()
    {
        // Every converger reads and writes the booking row through BookingRows, so its ETag rules live in one place;
        // the erasure catalogue only names the table.
        string[] mayName = ["Bookings/BookingRows.cs", "Erasure/ErasureCoverage.cs"];
        var opening = FolderReferences.CoreSources()
            .Where(source => !mayName.Contains(source.Path) && source.Text.Contains("TableNames.Bookings", StringComparison.Ordinal))
            .Select(source => source.Path)
            .ToList();

        Assert.True(opening.Count == 0, $"these files name the Bookings table instead of using BookingRows: {string.Join(", ", opening)}");
        Assert.Contains(FolderReferences.CoreSources(), source => source.Path == mayName[0] && source.Text.Contains("TableNames.Bookings", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Storage/Planted.cs", "Storage", "typeof(Cafetalk.Integrations.Bookings.BookingRows)", "Bookings")]
    [InlineData("Zoom/Planted.cs", "Zoom", "new Cafetalk.Integrations.Vimeo.VimeoOptions()", "Vimeo")]
    [InlineData("Disclosure/Planted.cs", "Disclosure", "Cafetalk.Integrations.Bookings.BookingStatus.Cancelled", "Bookings")]
    public void APlantedUseAgainstTheOrder_IsFound(string path, string folder, string expression, string usedFolder)
    {
        var planted = $$"""
            namespace Cafetalk.Integrations.{{folder}};
            internal static class Planted { internal static object Use() => {{expression}}; }
            """;

        var references = FolderReferences.Find([.. FolderReferences.CoreSources(), (path, planted)]);

        var found = references.Where(r => r.File == path).ToList();
        Assert.NotEmpty(found);
        Assert.All(found, r => Assert.Equal((folder, usedFolder), (r.From, r.To)));
        Assert.All(found, r => Assert.NotNull(CoreLayers.Forbids(r.From, r.To)));
    }

    [Fact]
    public void APlantedUsingDirective_OfAHigherLayer_IsFound_EvenWhenNothingOfItIsUsed()
    {
        const string planted = "using Cafetalk.Integrations.Bookings;\nnamespace Cafetalk.Integrations.Storage;\ninternal static class Planted;\n";

        var references = FolderReferences.Find([.. FolderReferences.CoreSources(), ("Storage/Planted.cs", planted)]);

        var found = Assert.Single(references, r => r.File == "Storage/Planted.cs");
        Assert.Equal(("Storage", "Bookings", 1), (found.From, found.To, found.Line));
        Assert.NotNull(CoreLayers.Forbids(found.From, found.To));
    }

    private static string Shown(string folder) => folder == CoreLayers.Root ? "(root)" : folder;
}
