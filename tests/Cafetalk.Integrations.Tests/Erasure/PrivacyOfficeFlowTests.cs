using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Erasure;
using Cafetalk.Integrations.Http;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Tests.Erasure;

/// <summary>
/// The privacy office's two flows called directly: every refusal is decided before the ledger is read or a message is
/// queued (the flows get no storage here, so touching it would throw).
/// </summary>
public sealed class PrivacyOfficeFlowTests
{
    private const string Key = "po-key-0123456789abcdef0123456789abcdef";

    private static PrivacyOfficeCredential Credential() => new(Options.Create(new PrivacyOfficeOptions { ApiKey = Key }));

    [Theory]
    [InlineData(BodyReadOutcome.TooLarge, 413, "too-large")]
    [InlineData(BodyReadOutcome.TooSlow, 408, "too-slow")]
    [InlineData(BodyReadOutcome.Unreadable, 400, "bad-body")]
    public async Task Erasure_BodyNotReadWhole_IsRefusedBeforeTheKeyIsLookedAt(BodyReadOutcome body, int status, string type)
    {
        var refused = Assert.IsType<FlowOutcome.Refused>(await new MemberErasureFlow(Credential(), null!, TimeProvider.System)
            .RequestAsync(new BodyRead(body, default), [], "stu_1", "era_1"));

        Assert.Equal((status, "https://cafetalk.com/problems/erasure/" + type), (refused.Status, refused.Problem.Type));
    }

    [Theory]
    [InlineData("stu_1", null)]
    [InlineData("stu_1", "era 1")]
    [InlineData("stu/1", "era_1")]
    public async Task Erasure_BadMemberOrRequestId_Is400(string memberId, string? requestId)
    {
        var refused = Assert.IsType<FlowOutcome.Refused>(await new MemberErasureFlow(Credential(), null!, TimeProvider.System)
            .RequestAsync(BodyRead.Of([]), [Key], memberId, requestId));

        Assert.Equal((400, "https://cafetalk.com/problems/erasure/member-id"), (refused.Status, refused.Problem.Type));
    }

    [Theory]
    [InlineData("stu_1", "xml", "en", "format")]
    [InlineData("stu_1", "csv", "fr", "format")]
    [InlineData("stu 1", "json", "en", "member-id")]
    [InlineData("", null, null, "member-id")]
    public async Task Export_BadMemberFormatOrLanguage_Is400WithoutReadingTheLedger(string memberId, string? format, string? lang, string type)
    {
        var refused = Assert.IsType<FlowOutcome.Refused>(await new DisclosureExportFlow(null!, Credential()).ExportAsync([Key], memberId, format, lang));

        Assert.Equal((400, "https://cafetalk.com/problems/disclosures/" + type), (refused.Status, refused.Problem.Type));
    }
}
