using System.Net;
using System.Text.Json;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.IntegrationTests.Disclosure;

/// <summary>The privacy-office routes over HTTP, as served: a function key opens the host's door, not these routes.</summary>
public sealed class PrivacyOfficeRouteTests(ServedSandboxFixture fixture) : IClassFixture<ServedSandboxFixture>
{
    private string PrivacyOfficeKey => fixture.Sandbox.Settings()["PrivacyOffice:ApiKey"]!;

    [Fact]
    public async Task Export_FunctionKeyAlone_401_WithThePrivacyOfficeKey_200()
    {
        using var http = fixture.CreateClient();
        var url = $"api/members/stu_po_1/disclosures?code={fixture.Server.FunctionKey}";

        using var functionKeyOnly = await http.GetAsync(url);
        using var request = new HttpRequestMessage(HttpMethod.Get, url) { Headers = { { PrivacyOfficeCredential.HeaderName, PrivacyOfficeKey } } };
        using var both = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, functionKeyOnly.StatusCode);
        Assert.Equal("application/problem+json", functionKeyOnly.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("disclosures\"", await functionKeyOnly.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, both.StatusCode);
    }

    [Fact]
    public async Task Erase_FunctionKeyAlone_401AndNothingQueued_WithThePrivacyOfficeKey_202AndTheRequestQueued()
    {
        using var http = fixture.CreateClient();
        var queue = fixture.Storage.Queue(QueueNames.ErasureRequests);
        await fixture.Storage.EnsureProvisionedAsync();
        await queue.ClearMessagesAsync();
        var url = $"api/members/stu_po_2/erasure?requestId=era_po_2&code={fixture.Server.FunctionKey}";

        using var functionKeyOnly = await http.PostAsync(url, null);
        var queuedAfterRefusal = (await queue.PeekMessagesAsync(32)).Value.Length;
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Headers = { { PrivacyOfficeCredential.HeaderName, PrivacyOfficeKey } } };
        using var both = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, functionKeyOnly.StatusCode);
        Assert.Equal(0, queuedAfterRefusal);
        Assert.Equal(HttpStatusCode.Accepted, both.StatusCode);
        var data = JsonDocument.Parse(Assert.Single((await queue.PeekMessagesAsync(32)).Value).Body.ToString()).RootElement.GetProperty("data");
        Assert.Equal(("stu_po_2", "era_po_2"), (data.GetProperty("memberId").GetString(), data.GetProperty("requestId").GetString()));
    }
}
