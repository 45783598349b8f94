using System.Net;
using System.Text.Json;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;

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
    public async Task Export_MappingRedirectedToAnotherMembersChain_409ProblemAndNoneOfTheirRecords()
    {
        using var http = fixture.CreateClient();
        await fixture.Storage.EnsureProvisionedAsync();
        var subjects = fixture.Services.GetRequiredService<SubjectRegistry>();
        var other = await subjects.GetOrCreateAsync("stu_po_other");
        await subjects.GetOrCreateAsync("stu_po_3");
        var table = fixture.Storage.Table(TableNames.Subjects);
        var row = (await table.GetEntityAsync<Azure.Data.Tables.TableEntity>("stu_po_3", "subject")).Value;
        row["SubjectRef"] = other;
        await table.UpdateEntityAsync(row, Azure.ETag.All, Azure.Data.Tables.TableUpdateMode.Replace);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/members/stu_po_3/disclosures?code={fixture.Server.FunctionKey}") { Headers = { { PrivacyOfficeCredential.HeaderName, PrivacyOfficeKey } } };

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("https://cafetalk.com/problems/disclosures/subject-mapping", JsonDocument.Parse(body).RootElement.GetProperty("type").GetString());
        Assert.DoesNotContain("disclosures\"", body, StringComparison.Ordinal);
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
