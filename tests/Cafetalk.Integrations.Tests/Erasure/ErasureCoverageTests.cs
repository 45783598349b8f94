using Cafetalk.Integrations.Erasure;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Tests.Erasure;

/// <summary>Every store the app has is either erased or declared, with its reason, as holding nothing that links to the member.</summary>
public sealed class ErasureCoverageTests
{
    public static TheoryData<string, string> Stores()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in TableNames.All)
        {
            data.Add("table", name);
        }

        foreach (var name in QueueNames.All)
        {
            data.Add("queue", name);
        }

        foreach (var name in BlobContainerNames.All)
        {
            data.Add("container", name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public void EveryStore_HasExactlyOneErasureLine_WithItsReason(string kind, string name)
    {
        var line = Assert.Single(ErasureCoverage.Stores, s => s.Kind == kind && s.Name == name);
        Assert.False(string.IsNullOrWhiteSpace(line.Why));
    }

    [Fact]
    public void Coverage_NamesNoStoreTheAppDoesNotHave()
    {
        var known = TableNames.All.Select(n => ("table", n)).Concat(QueueNames.All.Select(n => ("queue", n))).Concat(BlobContainerNames.All.Select(n => ("container", n))).ToHashSet();

        Assert.All(ErasureCoverage.Stores, s => Assert.Contains((s.Kind, s.Name), known));
    }

    [Fact]
    public void PoisonStores_AreLeftToThePoisonStep_NotDeclaredHarmless()
    {
        // The poison queue and blobs keep refused payloads: they must be erased, never waved through as transit.
        Assert.Equal(StoreErasure.PoisonStep, ErasureCoverage.Stores.Single(s => s.Name == QueueNames.BookingEventsPoison).Erasure);
        Assert.Equal(StoreErasure.PoisonStep, ErasureCoverage.Stores.Single(s => s.Name == BlobContainerNames.PoisonPayloads).Erasure);
    }

    [Fact]
    public void PrivacyDoc_ListsEveryStoreInItsErasureTable()
    {
        var doc = File.ReadAllText(Path.Combine(RepositoryRootOf(AppContext.BaseDirectory), "docs", "privacy.md"));

        Assert.All(ErasureCoverage.Stores, s => Assert.Contains($"| `{s.Name}` |", doc, StringComparison.Ordinal));
    }

    private static string RepositoryRootOf(string directory) =>
        File.Exists(Path.Combine(directory, "Cafetalk.Integrations.sln")) ? directory : RepositoryRootOf(Path.GetDirectoryName(directory)!);
}
