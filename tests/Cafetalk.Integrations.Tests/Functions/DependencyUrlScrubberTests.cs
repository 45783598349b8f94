using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Functions;
using Microsoft.ApplicationInsights.DataContracts;
using Microsoft.ApplicationInsights.Extensibility;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.Tests.Functions;

/// <summary>What Application Insights keeps of an outgoing call: never a token in a query or an email in a path.</summary>
public sealed class DependencyUrlScrubberTests
{
    private static DependencyTelemetry Scrubbed(string name, string data)
    {
        var dependency = new DependencyTelemetry { Type = "Http", Name = name, Data = data, Target = new Uri(data).Host };
        new DependencyUrlScrubber(DisclosurePolicy.Cafetalk).Initialize(dependency);
        return dependency;
    }

    [Fact]
    public void GoogleRevoke_KeepsNoRefreshToken()
    {
        var dependency = Scrubbed("POST /revoke", "https://oauth2.googleapis.com/revoke?token=1%2F%2F0gAbCdEfGhIjKlMnOpQr");

        Assert.Equal(("POST /revoke", "https://oauth2.googleapis.com/revoke"), (dependency.Name, dependency.Data));
    }

    [Fact]
    public void MailSuppressionDelete_KeepsTheRouteTemplateNotTheEmail()
    {
        var dependency = Scrubbed("DELETE /v3/asm/groups/101/suppressions/hanako.yamada%40example.jp", "https://api.sendgrid.com/v3/asm/groups/101/suppressions/hanako.yamada%40example.jp");

        Assert.Equal("DELETE /v3/asm/groups/{groupId}/suppressions/{email}", dependency.Name);
        Assert.Equal("https://api.sendgrid.com/v3/asm/groups/{groupId}/suppressions/{email}", dependency.Data);
    }

    [Fact]
    public void CallOutsideThePolicy_LosesOnlyItsQuery()
    {
        var dependency = Scrubbed("GET /Bookings()", "https://acct.table.core.windows.net/Bookings()?$filter=PartitionKey%20eq%20%27lec_1%27");

        Assert.Equal(("GET /Bookings()", "https://acct.table.core.windows.net/Bookings()"), (dependency.Name, dependency.Data));
    }

    private static RequestTelemetry ScrubbedRequest(string name, string url)
    {
        var request = new RequestTelemetry { Name = name, Url = new Uri(url) };
        new DependencyUrlScrubber(DisclosurePolicy.Cafetalk).Initialize(request);
        return request;
    }

    [Theory]
    [InlineData("POST /api/newsletter/unsubscribe", "https://func-cafetalk.azurewebsites.net/api/newsletter/unsubscribe?t=v1.k1.c3ViLTEyMw.sig", "/api/newsletter/unsubscribe")]
    [InlineData("GET /api/calendar/connect", "https://func-cafetalk.azurewebsites.net/api/calendar/connect?ticket=lec_4412.1767000000.sig", "/api/calendar/connect")]
    [InlineData("GET /api/members/stu_90311/disclosures", "https://func-cafetalk.azurewebsites.net/api/members/stu_90311/disclosures?format=csv&code=hostkey", "/api/members/{memberId}/disclosures")]
    [InlineData("MemberDisclosures", "https://func-cafetalk.azurewebsites.net/api/members/stu_90311/disclosures", "/api/members/{memberId}/disclosures")]
    public void IncomingRequest_KeepsNoQueryAndNoMemberId(string name, string url, string path)
    {
        var request = ScrubbedRequest(name, url);

        Assert.Equal(new Uri("https://func-cafetalk.azurewebsites.net" + path), request.Url);
        Assert.DoesNotContain("stu_90311", request.Name, StringComparison.Ordinal);
        Assert.DoesNotContain("?", request.Url.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void HostJson_HostRequestTelemetryCarriesNoHttpUrl()
    {
        // The host records requests in its own process, where no initializer of ours runs: it is told not to keep the URL.
        using var host = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(FunctionsMetadataTests.FindRepositoryRoot(), "host.json")));

        var options = host.RootElement.GetProperty("logging").GetProperty("applicationInsights").GetProperty("httpAutoCollectionOptions");

        Assert.False(options.GetProperty("enableHttpTriggerExtendedInfoCollection").GetBoolean());
    }

    [Fact]
    public void FunctionsApp_RegistersTheScrubber()
    {
        var builder = FunctionsApplication.CreateBuilder([]);

        builder.AddCafetalkTelemetry();

        Assert.Contains(builder.Services, d => d.ServiceType == typeof(ITelemetryInitializer) && d.ImplementationType == typeof(DependencyUrlScrubber));
    }
}
