namespace Cafetalk.Integrations.Tests.Infra;

/// <summary>Network isolation, diagnostic settings and the poison lifecycle rule in the compiled template.</summary>
public sealed partial class BicepTemplateTests
{
    [Fact]
    public void Network_IsOnByDefault_WithAPrivateEndpointForBlobQueueTableAndVault()
    {
        Assert.True(Template.Json["parameters"]!["vnetEnabled"]!["defaultValue"]!.GetValue<bool>());
        var network = Template.OfType("Microsoft.Resources/deployments").Single(d => d.Text("name") == "network");
        Assert.Equal("[parameters('vnetEnabled')]", network.Json["condition"]?.GetValue<string>());

        var endpoints = Template.Single("Microsoft.Network/privateEndpoints");
        var groups = endpoints.Template.Json["variables"]!["endpoints"]!.AsArray().Select(e => e!["groupId"]!.GetValue<string>());
        // Blob twice: the data account's and the deployment account's; one zone per service, shared by both accounts.
        Assert.Equal(["blob", "blob", "queue", "table", "vault"], groups.Order());
        var targets = endpoints.Template.Json["variables"]!["endpoints"]!.AsArray().Select(e => (e!["target"]!.GetValue<string>(), e["groupId"]!.GetValue<string>()));
        Assert.Contains(("deployment", "blob"), targets);
        Assert.Equal(4, endpoints.Template.Json["variables"]!["zoneNames"]!.AsArray().Count);
        Assert.Equal("[length(variables('endpoints'))]", endpoints.Json["copy"]?["count"]?.GetValue<string>());
        Assert.Single(Template.OfType("Microsoft.Network/privateEndpoints/privateDnsZoneGroups"));
        Assert.Single(Template.OfType("Microsoft.Network/privateDnsZones/virtualNetworkLinks"));

        var vnet = Template.Single("Microsoft.Network/virtualNetworks");
        var delegations = vnet.At("properties.subnets")!.AsArray().Select(s => s!["properties"]?["delegations"]?[0]?["properties"]?["serviceName"]?.GetValue<string>()).OfType<string>();
        Assert.Equal(["Microsoft.App/environments"], delegations);
        Assert.Contains("appSubnetId", Template.Single("Microsoft.Web/sites").Text("properties.virtualNetworkSubnetId"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Microsoft.Storage/storageAccounts")]
    [InlineData("Microsoft.KeyVault/vaults")]
    public void PublicNetworkAccess_IsDisabledWhenIsolated_AndDeniesByDefault(string type)
    {
        // Every storage account (data and deployment) and the vault.
        Assert.All(Template.OfType(type), resource =>
        {
            Assert.Equal("[if(parameters('privateOnly'), 'Disabled', 'Enabled')]", resource.Text("properties.publicNetworkAccess"));
            Assert.Equal("[if(parameters('privateOnly'), 'Deny', 'Allow')]", resource.Text("properties.networkAcls.defaultAction"));
            var privateOnly = resource.Template.Deployment!.Json["properties"]!["parameters"]!["privateOnly"]!["value"]!.GetValue<string>();
            Assert.Equal("[parameters('vnetEnabled')]", privateOnly);
        });
    }

    [Fact]
    public void DiagnosticSettings_CoverEachStorageServiceTheVaultAndTheApp_IntoTheWorkspace()
    {
        var settings = Template.OfType("Microsoft.Insights/diagnosticSettings");
        var scopes = settings.Select(s => ScopeType().Match(s.Text("scope") ?? "").Value).ToList();

        // Each storage account twice (data and deployment: metrics, and the blob service's logs).
        Assert.Equal(
            ["Microsoft.KeyVault/vaults'", "Microsoft.Storage/storageAccounts'", "Microsoft.Storage/storageAccounts'", "Microsoft.Storage/storageAccounts/blobServices'", "Microsoft.Storage/storageAccounts/blobServices'", "Microsoft.Storage/storageAccounts/queueServices'", "Microsoft.Storage/storageAccounts/tableServices'", "Microsoft.Web/sites'"],
            scopes.Order(StringComparer.Ordinal));
        Assert.Equal(2, settings.Count(s => (s.Text("scope") ?? "").Contains("parameters('deploymentStorageAccountName')", StringComparison.Ordinal)));
        Assert.All(settings, s => Assert.Contains("Microsoft.OperationalInsights/workspaces", s.Text("properties.workspaceId"), StringComparison.Ordinal));
        Assert.All(settings.Where(s => !(s.Text("scope") ?? "").Contains("Microsoft.Storage/storageAccounts'", StringComparison.Ordinal)),
            s => Assert.NotEmpty(s.At("properties.logs")!.AsArray()));
    }

    [Fact]
    public void PoisonPayloads_AreDeletedByALifecycleRuleWithinAWeek()
    {
        var policy = Template.Single("Microsoft.Storage/storageAccounts/managementPolicies");
        var rule = policy.At("properties.policy.rules")!.AsArray().Single()!;

        Assert.Equal("[format('{0}/', variables('poisonPayloadsContainerName'))]", rule["definition"]!["filters"]!["prefixMatch"]![0]!.GetValue<string>());
        Assert.Equal("[parameters('poisonRetentionDays')]", rule["definition"]!["actions"]!["baseBlob"]!["delete"]!["daysAfterCreationGreaterThan"]!.GetValue<string>());
        Assert.Equal(7, policy.Template.Json["parameters"]!["poisonRetentionDays"]!["defaultValue"]!.GetValue<int>());
        Assert.Equal(TimeSpan.FromDays(7), Cafetalk.Integrations.Storage.PoisonQueue.Retention);
    }
}
