using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cafetalk.Integrations.Sandbox.Mail;

namespace Cafetalk.Integrations.IntegrationTests.Sandbox;

/// <summary>The mail simulator as strict as SendGrid's published suppressions spec (sendgrid.contract.json).</summary>
public sealed class MailServiceSimulatorTests
{
    private static HttpClient Client(MailServiceSimulator mail)
    {
        var http = new HttpClient { BaseAddress = mail.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", mail.ApiKey);
        return http;
    }

    [Fact]
    public async Task AddToAGroupThatDoesNotExist_SuppressesTheAddressGlobally()
    {
        await using var mail = await MailServiceSimulator.StartAsync();
        mail.CreateGroup(101, "Cafetalk news");
        using var http = Client(mail);

        using var added = await http.PostAsJsonAsync("v3/asm/groups/999/suppressions", new { recipient_emails = new[] { "lost.click@example.org" } });

        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        Assert.Contains("lost.click@example.org", mail.GloballySuppressed);
        Assert.Empty(mail.Suppressed(999));
        Assert.Empty(mail.Suppressed(101));
    }

    [Fact]
    public async Task GroupList_NamesOnlyCreatedGroups_InTheSpecsShape()
    {
        await using var mail = await MailServiceSimulator.StartAsync();
        mail.CreateGroup(101, "Cafetalk news");
        mail.CreateGroup(102, "Lesson tips");
        mail.DeleteGroup(102);
        using var http = Client(mail);

        var groups = (await http.GetFromJsonAsync<JsonArray>("v3/asm/groups"))!;

        var group = Assert.Single(groups)!.AsObject();
        Assert.Equal(["description", "id", "is_default", "name", "unsubscribes"], group.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(101, group["id"]!.GetValue<int>());
    }

    [Theory]
    [InlineData(false, HttpStatusCode.NotFound, HttpStatusCode.NotFound)]
    [InlineData(true, HttpStatusCode.OK, HttpStatusCode.NoContent)]
    public async Task ReadOrRemoveOnAGroupThatDoesNotExist_AnswersEitherWayTheSpecLeavesOpen(bool empty, HttpStatusCode list, HttpStatusCode remove)
    {
        await using var mail = await MailServiceSimulator.StartAsync();
        mail.UnknownGroupReadsAsEmpty = empty;
        using var http = Client(mail);

        using var listed = await http.GetAsync("v3/asm/groups/999/suppressions");
        using var removed = await http.DeleteAsync("v3/asm/groups/999/suppressions/someone%40example.org");

        Assert.Equal((list, remove), (listed.StatusCode, removed.StatusCode));
    }
}
