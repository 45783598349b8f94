using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Sandbox;

namespace Cafetalk.Integrations.Tests.Disclosure;

public sealed class DisclosurePolicyTests
{
    [Fact]
    public void Policy_AsShipped_HasNoProblems()
    {
        Assert.Empty(DisclosurePolicy.Cafetalk.Validate());
    }

    [Fact]
    public void Policy_AsShipped_CoversTheFourRecipients()
    {
        var recipients = DisclosurePolicy.Cafetalk.Purposes.Select(p => p.Recipient.LegalName).Distinct().ToList();

        Assert.Equal(["Zoom Video Communications, Inc.", "Google LLC", "Vimeo.com, Inc.", "Twilio Inc. (SendGrid)"], recipients);
        Assert.All(DisclosurePolicy.Cafetalk.Recipients, r => Assert.True(r.IsForeignTransfer));
    }

    [Fact]
    public void Validate_RouteUsesUndeclaredPathValue_ReportsIt()
    {
        var purpose = Purpose([new("DELETE", "/v3/suppressions/{email}")], []);

        var problems = new DisclosurePolicy([DisclosurePolicy.MailService], [purpose]).Validate();

        Assert.Equal(["test.purpose: route DELETE /v3/suppressions/{email} uses undeclared path:email"], problems);
    }

    [Fact]
    public void Validate_WildcardField_ReportsIt()
    {
        var purpose = Purpose([new("POST", "/x")], [new("settings.*", DataOwner.None, "any setting")]);

        var problems = new DisclosurePolicy([DisclosurePolicy.MailService], [purpose]).Validate();

        Assert.Single(problems, p => p.Contains("wildcard field settings.*", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_SamePurposeIdTwice_ReportsIt()
    {
        var purpose = Purpose([new("POST", "/x")], []);

        var problems = new DisclosurePolicy([DisclosurePolicy.MailService], [purpose, purpose]).Validate();

        Assert.Contains("purpose test.purpose is listed twice", problems);
    }

    [Theory]
    [InlineData("POST", "/v2/users/abc123/meetings", true)]
    [InlineData("POST", "/v2/users/abc123/meetings/", true)]
    [InlineData("post", "/v2/users/abc123/meetings", true)]
    [InlineData("GET", "/v2/users/abc123/meetings/extra", false)]
    [InlineData("POST", "/v2/users//meetings", false)]
    [InlineData("POST", "/v2/users/a/b/meetings", false)]
    [InlineData("DELETE", "/v2/users/abc123/meetings", false)]
    public void AllowedRoute_Matches_OnlyTheTemplatesMethodAndShape(string method, string path, bool expected)
    {
        var route = new AllowedRoute("POST", "/v2/users/{hostId}/meetings");

        Assert.Equal(expected, route.Matches(new HttpMethod(method), path));
    }

    [Fact]
    public void DataItemsOf_Student_ListsOnlyFieldsThatAreStudentData()
    {
        var purpose = DisclosurePolicy.Cafetalk.GetPurpose(DisclosurePolicy.PurposeIds.ZoomLessonMeeting);

        Assert.Equal(["start_time", "duration", "agenda"], purpose.DataItemsOf(SubjectRole.Student));
        Assert.Equal(["path:hostId", "start_time", "duration", "agenda"], purpose.DataItemsOf(SubjectRole.Lecturer));
    }

    [Fact]
    public void PrivacyDoc_DisclosurePolicySection_MatchesThePolicySource()
    {
        var documentPath = Path.Combine(RepositoryRoot.Find(), DisclosurePolicyDocument.DocumentPath);
        var document = File.ReadAllText(documentPath);

        var regenerated = DisclosurePolicyDocument.ReplaceSection(document, DisclosurePolicyDocument.ToMarkdown(DisclosurePolicy.Cafetalk));

        Assert.True(regenerated == document,
            $"{DisclosurePolicyDocument.DocumentPath}'s disclosure policy table is stale. Regenerate it with: {DisclosurePolicyDocument.RegenerateCommand}");
    }

    [Fact]
    public void ReplaceSection_DocumentWithoutMarkers_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => DisclosurePolicyDocument.ReplaceSection("# no markers", "x"));
    }

    private static DisclosurePurpose Purpose(IReadOnlyList<AllowedRoute> routes, IReadOnlyList<AllowedField> fields) =>
        new("test.purpose", DisclosurePolicy.MailService, "test", "§4-2-⑥", "consent", "none", routes, fields);
}
