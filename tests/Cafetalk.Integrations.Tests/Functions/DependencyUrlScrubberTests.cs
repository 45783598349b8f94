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

    [Fact]
    public void FunctionsApp_RegistersTheScrubber()
    {
        var builder = FunctionsApplication.CreateBuilder([]);

        builder.AddCafetalkTelemetry();

        Assert.Contains(builder.Services, d => d.ServiceType == typeof(ITelemetryInitializer) && d.ImplementationType == typeof(DependencyUrlScrubber));
    }
}
