using Cafetalk.Integrations.Disclosure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Tests.Disclosure;

public sealed class PrivacyOfficeCredentialTests
{
    private const string Key = "po-key-0123456789abcdef0123456789abcdef";

    private static PrivacyOfficeCredential CreateSut(string? configured = Key) => new(Options.Create(new PrivacyOfficeOptions { ApiKey = configured }));

    private static HttpRequest Request(Action<HttpRequest> configure)
    {
        var context = new DefaultHttpContext();
        configure(context.Request);
        return context.Request;
    }

    [Fact]
    public void TheConfiguredKeyInItsHeader_IsAccepted()
    {
        Assert.True(CreateSut().IsPresentedBy(Request(r => r.Headers[PrivacyOfficeCredential.HeaderName] = Key)));
    }

    [Fact]
    public void FunctionOrHostKeyAlone_IsRefused()
    {
        var request = Request(r =>
        {
            r.Headers["x-functions-key"] = Key;
            r.QueryString = new QueryString("?code=" + Key);
        });

        Assert.False(CreateSut().IsPresentedBy(request));
    }

    [Theory]
    [InlineData("wrong-key-0123456789abcdef0123456789abcdef")]
    [InlineData("po-key-0123456789abcdef0123456789abcde")]
    [InlineData("")]
    public void AnotherKey_IsRefused(string presented)
    {
        Assert.False(CreateSut().IsPresentedBy(Request(r => r.Headers[PrivacyOfficeCredential.HeaderName] = presented)));
    }

    [Fact]
    public void TheKeyTwice_OrInTheQuery_IsRefused()
    {
        Assert.False(CreateSut().IsPresentedBy(Request(r => r.Headers[PrivacyOfficeCredential.HeaderName] = new Microsoft.Extensions.Primitives.StringValues([Key, Key]))));
        Assert.False(CreateSut().IsPresentedBy(Request(r => r.QueryString = new QueryString($"?{PrivacyOfficeCredential.HeaderName}={Key}"))));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("short")]
    public void NoKeyConfigured_RefusesEveryone(string? configured)
    {
        Assert.False(CreateSut(configured).IsPresentedBy(Request(r => r.Headers[PrivacyOfficeCredential.HeaderName] = configured ?? string.Empty)));
    }

    [Fact]
    public async Task DisclosureExport_WithAFunctionKeyOnly_Answers401ProblemWithoutReadingTheLedger()
    {
        var export = new DisclosureExportEndpoint(null!, CreateSut());
        var request = Request(r => r.Headers["x-functions-key"] = "host-key");

        var result = Assert.IsType<ObjectResult>(await export.GetAsync(request, "stu_90311"));

        Assert.Equal(StatusCodes.Status401Unauthorized, result.StatusCode);
        Assert.Equal("https://cafetalk.com/problems/disclosures/privacy-office-credential", Assert.IsType<ProblemDetails>(result.Value).Type);
    }

    [Fact]
    public async Task ErasureRoute_WithAFunctionKeyOnly_Answers401ProblemAndQueuesNothing()
    {
        var erase = new global::Cafetalk.Integrations.Erasure.MemberErasureEndpoint(CreateSut(), null!, TimeProvider.System);
        var request = Request(r =>
        {
            r.Headers["x-functions-key"] = "host-key";
            r.QueryString = new QueryString("?requestId=era_1");
        });

        var result = Assert.IsType<ObjectResult>(await erase.PostAsync(request, "stu_90311"));

        Assert.Equal(StatusCodes.Status401Unauthorized, result.StatusCode);
    }
}
