using System.Net;
using System.Net.Http.Headers;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Contracts;
using Cafetalk.Integrations.Sandbox.Mail;

namespace Cafetalk.Integrations.IntegrationTests.Sandbox;

/// <summary>The simulators' contract hook: a request outside the provider's contract is answered 400, recorded, and never reaches the simulator.</summary>
public sealed class ContractHookTests
{
    [Fact]
    public async Task RequestOutsideTheContract_Gets400_IsRecorded_AndDoesNoWork()
    {
        await using var mail = await MailServiceSimulator.StartAsync();
        using var http = new HttpClient { BaseAddress = mail.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", mail.ApiKey);
        var checkedBefore = ContractViolations.CheckedByProvider().GetValueOrDefault("sendgrid");

        using var undeclared = await http.PostAsync("v3/asm/groups/101/suppressions?notify=true",
            new StringContent("""{"recipient_emails":["hook.test@example.org"],"reason":"clicked"}""", System.Text.Encoding.UTF8, "application/json"));
        using var tokenInQuery = await new HttpClient().GetAsync(new Uri(mail.BaseAddress, $"v3/asm/groups/101/suppressions?access_token={mail.ApiKey}"));
        var body = await undeclared.Content.ReadAsStringAsync();
        var recorded = ContractViolations.TakeFrom(mail.BaseAddress);

        Assert.Equal(HttpStatusCode.BadRequest, undeclared.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tokenInQuery.StatusCode);
        Assert.Contains("undeclared query parameter 'notify'", body, StringComparison.Ordinal);
        Assert.Contains("undeclared body field 'reason'", body, StringComparison.Ordinal);
        Assert.DoesNotContain("hook.test", body, StringComparison.Ordinal);
        Assert.Empty(mail.Requests);
        Assert.Empty(mail.Suppressed(101));
        Assert.Equal(
            ["sendgrid asm.groups.suppressions.add: undeclared body field 'reason'", "sendgrid asm.groups.suppressions.add: undeclared query parameter 'notify'",
             "sendgrid asm.groups.suppressions.list: auth scheme 'none' is not one of [Bearer]",
             "sendgrid asm.groups.suppressions.list: credential in query parameter 'access_token': tokens go in the Authorization header only"],
            recorded.Select(v => v.ToString()).Order(StringComparer.Ordinal));
        Assert.All(recorded, v => Assert.DoesNotContain(mail.ApiKey, v.ToString(), StringComparison.Ordinal));
        Assert.True(ContractViolations.CheckedByProvider()["sendgrid"] >= checkedBefore + 2);
        Assert.Empty(ContractViolations.TakeFrom(mail.BaseAddress));
    }

    [Fact]
    public async Task WireLog_RecordsHeaderNamesAndAuthScheme_NeverTheirValues()
    {
        await using var sandbox = await SandboxEnvironment.StartAsync();
        using var http = new HttpClient { BaseAddress = sandbox.Mail.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", sandbox.Mail.ApiKey);

        using (await http.GetAsync("v3/asm/groups/101/suppressions"))
        {
        }

        var line = Assert.Single(sandbox.WireRequests(), r => r.Request.Provider == "mail").Request;
        Assert.Equal("Bearer", line.AuthScheme);
        Assert.Contains("Authorization", line.HeaderNames);
        Assert.DoesNotContain(sandbox.Mail.ApiKey, System.Text.Json.JsonSerializer.Serialize(line), StringComparison.Ordinal);
    }
}
