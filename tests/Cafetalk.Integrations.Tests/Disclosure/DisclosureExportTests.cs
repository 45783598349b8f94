using Cafetalk.Integrations.Disclosure;

namespace Cafetalk.Integrations.Tests.Disclosure;

public sealed class DisclosureExportTests
{
    [Fact]
    public void ToCsv_CellsWithCommasAndQuotes_AreQuotedPerRfc4180()
    {
        var record = new DisclosureRecord(
            new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), "Zoom Video Communications, Inc.", "United States",
            ["start_time", "agenda"], "the \"lesson\" meeting", "§4-2-②, §8", "consent", "c-1", "Student", "create", null, "Succeeded", null);

        var csv = DisclosureExport.ToCsv([record]);

        var lines = csv.Split("\r\n");
        Assert.StartsWith("providedAtUtc,recipient,country,dataItems,purpose", lines[0], StringComparison.Ordinal);
        Assert.Equal(
            "2026-01-02T03:04:05.000Z,\"Zoom Video Communications, Inc.\",United States,start_time agenda,\"the \"\"lesson\"\" meeting\",\"§4-2-②, §8\",consent,c-1,Student,create,,Succeeded,",
            lines[1]);
    }
}
