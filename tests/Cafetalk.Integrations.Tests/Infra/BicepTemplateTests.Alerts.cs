using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Functions.Disclosure;
using Cafetalk.Integrations.Telemetry;

namespace Cafetalk.Integrations.Tests.Infra;

/// <summary>The alerts of docs/operations.md as azd deploys them: log alerts on Application Insights notifying one action group.</summary>
public sealed partial class BicepTemplateTests
{
    // Each declared alert and the signal its query must read: the app's own metric, log line or function name.
    public static TheoryData<string, string> DeclaredAlerts => new()
    {
        { "poison-messages", "Moving message to queue" },
        { "events-rejected", IntakeMetrics.RejectedName },
        { "provider-throttled", ProviderMetrics.ThrottledName },
        { "provider-errors", ProviderMetrics.RequestsName },
        { "disclosure-refused", ProviderMetrics.RequestsName },
        { "converge-lag", ConvergeMetrics.LagName },
        { "lesson-at-risk", Cafetalk.Integrations.Operations.StartsSoonCheck.AtRiskMetric },
        { "ledger-append-gave-up", LedgerMetrics.GaveUp },
        { "ledger-head-conflicts", LedgerMetrics.HeadConflict },
        { "ledger-digest-failed", nameof(LedgerDigestFunction) },
        { "ledger-digest-absent", nameof(LedgerDigestFunction) },
        { "erasure-blocked", Cafetalk.Integrations.Erasure.GoogleCalendarErasureStep.BlockedMessagePrefix },
    };

    [Theory]
    [MemberData(nameof(DeclaredAlerts))]
    public void Alert_IsAnEnabledLogAlertOnApplicationInsightsThatNotifiesTheActionGroup(string alert, string signal)
    {
        var rules = Template.Single("Microsoft.Insights/scheduledQueryRules");
        var declared = AlertDefinitions(rules).Single(a => a["name"]!.GetValue<string>() == alert);

        Assert.True(rules.Value<bool>("properties.enabled"));
        Assert.Equal("LogAlert", rules.Text("kind"));
        Assert.Contains(signal, declared["query"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.InRange(declared["severity"]!.GetValue<int>(), 0, 4);

        // Scoped to the Application Insights component main.bicep creates, by the same name.
        var scope = Assert.Single(rules.At("properties.scopes")!.AsArray());
        Assert.Equal("[resourceId('Microsoft.Insights/components', parameters('applicationInsightsName'))]", scope!.GetValue<string>());
        Assert.Equal(
            Template.Single("Microsoft.Insights/components").Text("name"),
            rules.Template.Text(JsonValue.Create("[parameters('applicationInsightsName')]")));

        // Notifies the action group declared next to it.
        var actionGroup = Template.Single("Microsoft.Insights/actionGroups");
        Assert.Same(actionGroup.Template.Json, rules.Template.Json);
        var notified = Assert.Single(rules.At("properties.actions.actionGroups")!.AsArray());
        Assert.Equal($"[resourceId('Microsoft.Insights/actionGroups', {actionGroup.Json["name"]!.GetValue<string>()[1..^1]})]", notified!.GetValue<string>());
    }

    [Fact]
    public void LedgerDigestAbsent_FiresWhenNoDigestRunSucceededWithinTheVerifyBound()
    {
        var rules = Template.Single("Microsoft.Insights/scheduledQueryRules");
        var declared = AlertDefinitions(rules).Single(a => a["name"]!.GetValue<string>() == "ledger-digest-absent");
        var query = declared["query"]!.GetValue<string>();

        // A stopped timer records no failed run: only the absence of a successful one shows it, over the same 45 minutes
        // after which `ledger verify` reports the newest signed line as stale.
        Assert.Equal(Cafetalk.Integrations.Disclosure.DisclosureLedgerOptions.DefaultDigestMaxAge, System.Xml.XmlConvert.ToTimeSpan(declared["window"]!.GetValue<string>()));
        Assert.Equal(Cafetalk.Integrations.Disclosure.DisclosureLedgerOptions.DigestInterval, System.Xml.XmlConvert.ToTimeSpan(declared["frequency"]!.GetValue<string>()));
        Assert.Contains("where name == \"LedgerDigestFunction\" and success == true", query, StringComparison.Ordinal);
        Assert.Matches(@"summarize (\w+) = count\(\)\s*\n\| where \1 == 0", query.ReplaceLineEndings("\n"));
        Assert.Empty(declared["dimensions"]!.AsArray());
    }

    [Fact]
    public void Alerts_AreExactlyTheDeclaredOnes()
    {
        var rules = Template.Single("Microsoft.Insights/scheduledQueryRules");
        Assert.Equal("[length(variables('alerts'))]", rules.Json["copy"]?["count"]?.GetValue<string>());
        Assert.Equal(
            DeclaredAlerts.Select(row => (string)row[0]).Order(),
            AlertDefinitions(rules).Select(a => a["name"]!.GetValue<string>()).Order());
    }

    [Fact]
    public void ActionGroup_EmailsTheAddressGivenAtDeployTime_NoAddressCommitted()
    {
        var actionGroup = Template.Single("Microsoft.Insights/actionGroups");
        Assert.True(actionGroup.Value<bool>("properties.enabled"));
        Assert.Contains("parameters('alertEmailAddress')", actionGroup.Text("properties.emailReceivers"), StringComparison.Ordinal);

        // main.bicep takes it from the azd environment; neither the template nor the parameters file holds one.
        Assert.Equal(string.Empty, Template.Json["parameters"]!["alertEmailAddress"]!["defaultValue"]!.GetValue<string>());
        var parameters = JsonNode.Parse(File.ReadAllText(Path.Combine(BicepCli.InfraDirectory, "main.parameters.json")))!["parameters"]!;
        Assert.Equal("${ALERT_EMAIL_ADDRESS}", parameters["alertEmailAddress"]!["value"]!.GetValue<string>());
        foreach (var file in Directory.EnumerateFiles(BicepCli.InfraDirectory, "*.*", SearchOption.AllDirectories))
        {
            Assert.DoesNotMatch(EmailAddress(), File.ReadAllText(file));
        }
    }

    private static IEnumerable<JsonObject> AlertDefinitions(ArmResource rules) =>
        rules.Template.Json["variables"]!["alerts"]!.AsArray().Select(a => a!.AsObject());

    [GeneratedRegex(@"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}")]
    private static partial Regex EmailAddress();
}
