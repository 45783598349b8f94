using System.Text.Json;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Sandbox;

namespace Cafetalk.Integrations.Tests.Bookings;

/// <summary>The outbound contract on <c>site-notifications</c>: one schema per type, stable ids, and a document that cannot drift.</summary>
public sealed class SiteNotificationTests
{
    public static TheoryData<string> Types() => [.. SiteNotificationTypes.All.Select(t => t.Type)];

    private static SiteNotificationType TypeOf(string type) => SiteNotificationTypes.Find(type)!;

    private static Dictionary<string, object?> ExampleData(SiteNotificationType type) => type.Fields.ToDictionary(f => f.Name, f => (object?)f.Example);

    private static IReadOnlyList<string> ProblemsOf(SiteNotificationType type, Dictionary<string, object?> data)
    {
        using var message = JsonDocument.Parse(new SiteNotification(type, data).ToCloudEvent(DateTimeOffset.UnixEpoch));
        return SiteNotificationSchema.Problems(type, message.RootElement.GetProperty("data"));
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void EveryType_ItsExample_IsAStructuredCloudEvent_ThatPassesItsSchema(string name)
    {
        var type = TypeOf(name);
        using var message = JsonDocument.Parse(SiteNotificationsDocument.Example(type));
        var root = message.RootElement;

        Assert.Equal("1.0", root.GetProperty("specversion").GetString());
        Assert.Equal(name, root.GetProperty("type").GetString());
        Assert.StartsWith("/cafetalk-integrations/", root.GetProperty("source").GetString(), StringComparison.Ordinal);
        Assert.Equal(32, root.GetProperty("id").GetString()!.Length);
        Assert.False(string.IsNullOrEmpty(root.GetProperty("subject").GetString()));
        Assert.Empty(SiteNotificationSchema.Problems(type, root.GetProperty("data")));
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void EveryType_AboutABooking_CarriesTheBookingsVersion(string name)
    {
        var type = TypeOf(name);
        if (type.Fields.Any(f => f.Name == "bookingId"))
        {
            Assert.True(type.IsAboutABooking, $"{name} names a booking but not its version: the site could not drop a stale one");
        }
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void EveryType_ItsJsonSchema_ListsItsFields_RequiresTheRequired_AndAllowsNoOther(string name)
    {
        var type = TypeOf(name);
        var schema = SiteNotificationSchema.JsonSchema(type);

        Assert.Equal(type.Fields.Select(f => f.Name), schema["properties"]!.AsObject().Select(p => p.Key));
        Assert.Equal(type.Fields.Where(f => f.Required).Select(f => f.Name), schema["required"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.False(schema["additionalProperties"]!.GetValue<bool>());
    }

    [Fact]
    public void TypeNames_AreUniqueCloudEventTypes_UnderComCafetalk()
    {
        Assert.Equal(SiteNotificationTypes.All.Count, SiteNotificationTypes.All.Select(t => t.Type).Distinct().Count());
        Assert.All(SiteNotificationTypes.All, t => Assert.Matches("^com\\.cafetalk\\.[a-z]+\\.[a-z-]+$", t.Type));
    }

    [Fact]
    public void Id_IsTheSameForTheSameFact_WhateverTheCorrelation_AndDiffersForANewVersionOrLink()
    {
        var type = SiteNotificationTypes.MeetingReady;
        var first = ExampleData(type);
        var redelivered = new Dictionary<string, object?>(first) { [SiteNotificationTypes.CorrelationField] = "another-correlation" };
        var newer = new Dictionary<string, object?>(first) { [SiteNotificationTypes.BookingVersionField] = 4 };
        var moved = new Dictionary<string, object?>(first) { ["joinUrl"] = "https://us02web.zoom.us/j/85099999999" };

        var id = new SiteNotification(type, first).Id;
        Assert.Equal(id, new SiteNotification(type, redelivered).Id);
        Assert.NotEqual(id, new SiteNotification(type, newer).Id);
        Assert.NotEqual(id, new SiteNotification(type, moved).Id);
        Assert.NotEqual(id, new SiteNotification(SiteNotificationTypes.MeetingRemoved, first).Id);
    }

    [Fact]
    public void Schema_RefusesWhatItDoesNotList_NamingTheField_NeverTheValue()
    {
        var type = SiteNotificationTypes.MeetingReady;
        const string planted = "https://attacker.example/a@b.c";
        var cases = new (string Expected, Action<Dictionary<string, object?>> Change)[]
        {
            ("data.joinUrl is missing", d => d.Remove("joinUrl")),
            ("data.bookingVersion is not a whole number", d => d["bookingVersion"] = "3"),
            ("data.joinUrl is not an https URL", d => d["joinUrl"] = "http://zoom.us/j/1"),
            ("data.startsAt is not a UTC time ending in Z", d => d["startsAt"] = "2026-12-10T09:00:00+09:00"),
            ("data.bookingId is not an id (1-64 characters of A-Z a-z 0-9 _ . -)", d => d["bookingId"] = "a/b"),
            ("data has a field the schema does not list (5 characters)", d => d["email"] = planted),
        };

        foreach (var (expected, change) in cases)
        {
            var data = ExampleData(type);
            change(data);
            var problems = ProblemsOf(type, data);

            Assert.Equal(expected, Assert.Single(problems));
            Assert.DoesNotContain(planted, problems[0], StringComparison.Ordinal);
        }

        var reason = ExampleData(SiteNotificationTypes.MeetingRemoved);
        reason["reason"] = "because";
        Assert.Equal("data.reason is not one of cancelled, erased, deleted-at-zoom", Assert.Single(ProblemsOf(SiteNotificationTypes.MeetingRemoved, reason)));
    }

    [Fact]
    public void Schema_AcceptsAJoinLinkOfTheLocalSimulator_ButNoOtherPlainHttp()
    {
        var data = ExampleData(SiteNotificationTypes.MeetingReady);
        data["joinUrl"] = "http://127.0.0.1:5123/j/85012345678";
        Assert.Empty(ProblemsOf(SiteNotificationTypes.MeetingReady, data));

        data["joinUrl"] = "http://zoom.example/j/85012345678";
        Assert.Single(ProblemsOf(SiteNotificationTypes.MeetingReady, data));
    }

    [Fact]
    public void ContractException_NamesTheTypeAndField_NotTheValue()
    {
        var data = ExampleData(SiteNotificationTypes.MeetingReady);
        data["joinUrl"] = "ftp://secret-link.example/j/1";
        var exception = new SiteNotificationContractException(SiteNotificationTypes.MeetingReady.Type, ProblemsOf(SiteNotificationTypes.MeetingReady, data));

        Assert.Contains("com.cafetalk.meeting.ready", exception.Message, StringComparison.Ordinal);
        Assert.Contains("data.joinUrl", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-link", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Document_IsGeneratedFromTheTypes_AndIsFresh()
    {
        var path = Path.Combine(RepositoryRoot.Find(), SiteNotificationsDocument.DocumentPath);
        var document = File.ReadAllText(path);

        Assert.True(document == SiteNotificationsDocument.ReplaceSection(document, SiteNotificationsDocument.ToMarkdown()),
            $"{SiteNotificationsDocument.DocumentPath} is stale. Regenerate it with: {SiteNotificationsDocument.RegenerateCommand}");
        Assert.All(SiteNotificationTypes.All, t => Assert.Contains($"### {t.Type}", document, StringComparison.Ordinal));
    }

    [Fact]
    public void ReadmesExample_IsANotificationItsSchemaAccepts_WithTheIdItsDataGives()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot.Find(), "README.md"));
        var example = System.Text.RegularExpressions.Regex.Match(readme, @"```json\n(\{""specversion"".*?)\n```", System.Text.RegularExpressions.RegexOptions.Singleline).Groups[1].Value;
        using var message = JsonDocument.Parse(example);
        var type = SiteNotificationTypes.Find(message.RootElement.GetProperty("type").GetString()!)!;
        var data = message.RootElement.GetProperty("data").EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.GetString());

        Assert.Empty(SiteNotificationSchema.Problems(type, message.RootElement.GetProperty("data")));
        Assert.Equal(new SiteNotification(type, data).Id, message.RootElement.GetProperty("id").GetString());
    }
}
