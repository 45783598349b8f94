using System.Net;
using System.Net.Http.Json;
using Cafetalk.Integrations.Disclosure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cafetalk.Integrations.Tests.Disclosure;

public sealed class DisclosureGateHandlerTests
{
    private const string Email = "alice@example.com";
    private static readonly DisclosurePurpose Meeting = DisclosurePolicy.Cafetalk.GetPurpose(DisclosurePolicy.PurposeIds.ZoomLessonMeeting);
    private static readonly DisclosurePurpose Suppression = DisclosurePolicy.Cafetalk.GetPurpose(DisclosurePolicy.PurposeIds.NewsletterSuppression);

    private readonly RecordingHandler _wire = new();

    [Fact]
    public async Task Send_AllowlistedMeetingWithBothIntents_PassesAndRecordsFieldPaths()
    {
        var context = DisclosureContext.For(Meeting, [Handle(Meeting, SubjectRole.Lecturer), Handle(Meeting, SubjectRole.Student)]);

        await CreateSut(DisclosurePolicy.Zoom).SendAsync(MeetingRequest(context, new { type = 2, topic = "Lesson", start_time = "2026-01-01T10:00:00Z", settings = new { waiting_room = true } }));

        Assert.Equal(1, _wire.Count);
        Assert.Equal(["path:hostId", "type", "topic", "start_time", "settings.waiting_room"], context.SentFieldPaths);
    }

    [Fact]
    public async Task Send_OneExtraField_RefusedNamingThePathNotTheValue()
    {
        var context = DisclosureContext.For(Meeting, [Handle(Meeting, SubjectRole.Lecturer), Handle(Meeting, SubjectRole.Student)]);

        var ex = await Assert.ThrowsAsync<DisclosureRefusedException>(() => CreateSut(DisclosurePolicy.Zoom)
            .SendAsync(MeetingRequest(context, new { type = 2, settings = new { alternative_hosts = Email } })));

        Assert.Equal("settings.alternative_hosts", ex.FieldPath);
        Assert.DoesNotContain(Email, ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, _wire.Count);
    }

    [Fact]
    public async Task Send_NoDeclaredPurpose_Refused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://api.zoom.us/v2/meetings/1");

        var ex = await Assert.ThrowsAsync<DisclosureRefusedException>(() => CreateSut(DisclosurePolicy.Zoom).SendAsync(request));

        Assert.Null(ex.PurposeId);
        Assert.Equal(0, _wire.Count);
    }

    [Fact]
    public async Task Send_PurposeOfAnotherRecipient_Refused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://api.zoom.us/v2/meetings/1")
            .DeclareDisclosure(DisclosureContext.WithoutPersonalData(Meeting));

        var ex = await Assert.ThrowsAsync<DisclosureRefusedException>(() => CreateSut(DisclosurePolicy.Google).SendAsync(request));

        Assert.Contains("belongs to recipient 'zoom'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_PurposeNotTakenFromThePolicy_Refused()
    {
        var forged = Meeting with { Fields = [.. Meeting.Fields, new("settings.alternative_hosts", DataOwner.None, "forged")] };
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://api.zoom.us/v2/meetings/1")
            .DeclareDisclosure(DisclosureContext.WithoutPersonalData(forged));

        await Assert.ThrowsAsync<DisclosureRefusedException>(() => CreateSut(DisclosurePolicy.Zoom).SendAsync(request));

        Assert.Equal(0, _wire.Count);
    }

    [Fact]
    public async Task Send_PathNoRouteAllows_RefusedWithoutEchoingThePath()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://api.zoom.us/v2/users/{Email}")
            .DeclareDisclosure(DisclosureContext.WithoutPersonalData(Meeting));

        var ex = await Assert.ThrowsAsync<DisclosureRefusedException>(() => CreateSut(DisclosurePolicy.Zoom).SendAsync(request));

        Assert.DoesNotContain(Email, ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, _wire.Count);
    }

    [Fact]
    public async Task Send_QueryParameterNotAllowlisted_Refused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://api.zoom.us/v2/meetings/1?email={Uri.EscapeDataString(Email)}")
            .DeclareDisclosure(DisclosureContext.WithoutPersonalData(Meeting));

        var ex = await Assert.ThrowsAsync<DisclosureRefusedException>(() => CreateSut(DisclosurePolicy.Zoom).SendAsync(request));

        Assert.Equal("query:email", ex.FieldPath);
        Assert.DoesNotContain(Email, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_EmailInPathWithoutMemberIntent_Refused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"https://api.sendgrid.com/v3/asm/groups/7/suppressions/{Email}")
            .DeclareDisclosure(DisclosureContext.WithoutPersonalData(Suppression));

        var ex = await Assert.ThrowsAsync<DisclosureRefusedException>(() => CreateSut(DisclosurePolicy.MailService).SendAsync(request));

        Assert.Equal("path:email", ex.FieldPath);
        Assert.DoesNotContain(Email, ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, _wire.Count);
    }

    [Fact]
    public async Task Send_EmailInPathWithMemberIntent_Passes()
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"https://api.sendgrid.com/v3/asm/groups/7/suppressions/{Email}")
            .DeclareDisclosure(DisclosureContext.For(Suppression, [Handle(Suppression, SubjectRole.Member)]));

        await CreateSut(DisclosurePolicy.MailService).SendAsync(request);

        Assert.Equal(1, _wire.Count);
    }

    [Fact]
    public async Task Send_StudentDataWithOnlyALecturerIntent_Refused()
    {
        var context = DisclosureContext.For(Meeting, [Handle(Meeting, SubjectRole.Lecturer)]);

        var ex = await Assert.ThrowsAsync<DisclosureRefusedException>(() => CreateSut(DisclosurePolicy.Zoom)
            .SendAsync(MeetingRequest(context, new { start_time = "2026-01-01T10:00:00Z" })));

        Assert.Equal("start_time", ex.FieldPath);
        Assert.Contains("no Student ledger intent", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_IntentOfAnotherPurpose_DoesNotCover()
    {
        var other = DisclosurePolicy.Cafetalk.GetPurpose(DisclosurePolicy.PurposeIds.GoogleLessonCalendar);
        var context = DisclosureContext.For(Meeting, [Handle(other, SubjectRole.Lecturer), Handle(other, SubjectRole.Student)]);

        await Assert.ThrowsAsync<DisclosureRefusedException>(() => CreateSut(DisclosurePolicy.Zoom)
            .SendAsync(MeetingRequest(context, new { start_time = "2026-01-01T10:00:00Z" })));

        Assert.Equal(0, _wire.Count);
    }

    [Fact]
    public async Task Send_MultipartBody_Refused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, "https://api.zoom.us/v2/meetings/1")
        {
            Content = new MultipartFormDataContent { { new StringContent("x"), "type" } },
        }.DeclareDisclosure(DisclosureContext.WithoutPersonalData(Meeting));

        var ex = await Assert.ThrowsAsync<DisclosureRefusedException>(() => CreateSut(DisclosurePolicy.Zoom).SendAsync(request));

        Assert.Contains("cannot be inspected", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://api.zoom.us/v2/meetings/1")]
    [InlineData("https://api.zoom.us.attacker.test/v2/meetings/1")]
    [InlineData("https://attacker.test/v2/meetings/1")]
    [InlineData("https://api.zoom.us@attacker.test/v2/meetings/1")]
    [InlineData("https://me:pw@api.zoom.us/v2/meetings/1")]
    [InlineData("https://api.zoom.us:8443/v2/meetings/1")]
    [InlineData("https://api.vimeo.com/v2/meetings/1")]
    [InlineData("http://127.0.0.1:5001/v2/meetings/1")]
    public async Task Send_DestinationNotTheRecipientsHostOverHttps_RefusedBeforeTheWire(string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, url).DeclareDisclosure(DisclosureContext.WithoutPersonalData(Meeting));

        var ex = await Assert.ThrowsAsync<DisclosureRefusedException>(() => CreateSut(DisclosurePolicy.Zoom, new Uri("http://127.0.0.1:5000")).SendAsync(request));

        Assert.Contains("not a host of recipient 'zoom'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, _wire.Count);
    }

    [Theory]
    [InlineData("https://api.zoom.us/v2/meetings/1")]
    [InlineData("https://ZOOM.US/v2/meetings/1")]
    [InlineData("http://127.0.0.1:5000/v2/meetings/1")]
    public async Task Send_RecipientsHostOrTheConfiguredSandboxOrigin_Passes(string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, url).DeclareDisclosure(DisclosureContext.WithoutPersonalData(Meeting));

        await CreateSut(DisclosurePolicy.Zoom, new Uri("http://127.0.0.1:5000")).SendAsync(request);

        Assert.Equal(1, _wire.Count);
    }

    [Fact]
    public void Policy_EveryRecipientNamesItsHosts()
    {
        Assert.All(DisclosurePolicy.Cafetalk.Recipients, r => Assert.NotEmpty(r.Hosts));
    }

    internal static DisclosureHandle Handle(DisclosurePurpose purpose, SubjectRole role) => new(new LedgerEntry(
        "sub-test", 1, DateTimeOffset.UnixEpoch, purpose.Recipient.LegalName, purpose.Recipient.Country, purpose.Id, purpose.Description,
        purpose.PolicyClause, role, purpose.DataItemsOf(role), purpose.LegalBasis, "consent-1", "bk-1", null, "create",
        DisclosureOutcome.Intended, null, "corr-1", DateTimeOffset.UnixEpoch, LedgerRow.GenesisHash, "hash"));

    private static HttpRequestMessage MeetingRequest(DisclosureContext context, object body) =>
        new HttpRequestMessage(HttpMethod.Post, "https://api.zoom.us/v2/users/host-1/meetings") { Content = JsonContent.Create(body) }
            .DeclareDisclosure(context);

    private HttpClient CreateSut(Recipient recipient, params Uri[] sandboxOrigins) =>
        new(new DisclosureGateHandler(DisclosurePolicy.Cafetalk, recipient, NullLogger<DisclosureGateHandler>.Instance, sandboxOrigins) { InnerHandler = _wire });

    private sealed class RecordingHandler : HttpMessageHandler
    {
        public int Count { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Count++;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        }
    }
}
