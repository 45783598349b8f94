using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Erasure;
using Cafetalk.Integrations.Http;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Tests.Disclosure;

public sealed class PrivacyOfficeCredentialTests
{
    private const string Key = "po-key-0123456789abcdef0123456789abcdef";

    private static PrivacyOfficeCredential CreateSut(string? configured = Key) => new(Options.Create(new PrivacyOfficeOptions { ApiKey = configured }));

    [Fact]
    public void TheConfiguredKeyInItsHeader_IsAccepted()
    {
        Assert.True(CreateSut().IsPresentedIn([Key]));
    }

    [Fact]
    public void NoKeyHeader_IsRefused()
    {
        // A function or host key travels in other headers or the query: the privacy office's header is then absent.
        Assert.False(CreateSut().IsPresentedIn([]));
    }

    [Theory]
    [InlineData("wrong-key-0123456789abcdef0123456789abcdef")]
    [InlineData("po-key-0123456789abcdef0123456789abcde")]
    [InlineData("")]
    public void AnotherKey_IsRefused(string presented)
    {
        Assert.False(CreateSut().IsPresentedIn([presented]));
    }

    [Fact]
    public void TheKeyTwice_IsRefused()
    {
        Assert.False(CreateSut().IsPresentedIn([Key, Key]));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("short")]
    public void NoKeyConfigured_RefusesEveryone(string? configured)
    {
        Assert.False(CreateSut(configured).IsPresentedIn([configured ?? string.Empty]));
    }

    [Fact]
    public async Task DisclosureExport_WithoutThePrivacyOfficeKey_Is401ProblemWithoutReadingTheLedger()
    {
        var export = new DisclosureExportFlow(null!, CreateSut());

        var refused = Assert.IsType<FlowOutcome.Refused>(await export.ExportAsync([], "stu_90311", "json", "en"));

        Assert.Equal(401, refused.Status);
        Assert.Equal("https://cafetalk.com/problems/disclosures/privacy-office-credential", refused.Problem.Type);
    }

    [Fact]
    public async Task ErasureRoute_WithoutThePrivacyOfficeKey_Is401ProblemAndQueuesNothing()
    {
        // No storage account: queuing anything would throw.
        var erase = new MemberErasureFlow(CreateSut(), null!, TimeProvider.System);

        var refused = Assert.IsType<FlowOutcome.Refused>(await erase.RequestAsync(BodyRead.Of([]), [], "stu_90311", "era_1"));

        Assert.Equal(401, refused.Status);
        Assert.Equal("https://cafetalk.com/problems/erasure/privacy-office-credential", refused.Problem.Type);
    }

    [Fact]
    public async Task ExportRoute_WithTheKeyOnlyAsFunctionKeyOrInTheQuery_Is401()
    {
        var functions = new Cafetalk.Integrations.Functions.Erasure.MemberFunctions(null!, new DisclosureExportFlow(null!, CreateSut()), null!, TimeProvider.System);
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Headers["x-functions-key"] = Key;
        context.Request.QueryString = new Microsoft.AspNetCore.Http.QueryString($"?code={Key}&{PrivacyOfficeCredential.HeaderName}={Key}");

        var result = Assert.IsType<Microsoft.AspNetCore.Mvc.ObjectResult>(await functions.MemberDisclosures(context.Request, "stu_90311"));

        Assert.Equal(401, result.StatusCode);
    }
}
