namespace Cafetalk.Integrations.Tests.Infra;

/// <summary>
/// Ledger review F8: the Flex Consumption package is apart from the data, so whoever may write the data account (the
/// app identity, an insider with a data role there) cannot replace the code that runs as the digest signer.
/// </summary>
public sealed partial class BicepTemplateTests
{
    private const string DeploymentIdentityPrincipal = "[reference('deploymentIdentity').principalId]";

    [Fact]
    public void DeploymentPackage_LivesInItsOwnStorageAccount_NotWithTheData()
    {
        var site = Template.Single("Microsoft.Web/sites");
        Assert.Equal("deployment-storage", ModuleOf(site, "properties.functionAppConfig.deployment.storage.value"));

        var accountNames = Template.OfType("Microsoft.Storage/storageAccounts").ToDictionary(a => a.Template.Deployment!.Text("name")!, a => a.Text("name"));
        Assert.Equal(["deployment-storage", "storage"], accountNames.Keys.Order(StringComparer.Ordinal));
        Assert.NotEqual(accountNames["storage"], accountNames["deployment-storage"]);

        // The deployment account holds the package and nothing else; the data account does not hold the package.
        var containers = Template.OfType("Microsoft.Storage/storageAccounts/blobServices/containers");
        var packageContainer = Assert.Single(containers, c => c.Template.Deployment!.Text("name") == "deployment-storage");
        Assert.Equal("deployment-packages", LastLiteral(packageContainer.Text("name")));
        Assert.DoesNotContain("deployment-packages", DeclaredNamesIn("storage", "Microsoft.Storage/storageAccounts/blobServices/containers"));
        Assert.DoesNotContain(Template.OfType("Microsoft.Storage/storageAccounts/queueServices/queues"), q => q.Template.Deployment!.Text("name") != "storage");
        Assert.DoesNotContain(Template.OfType("Microsoft.Storage/storageAccounts/tableServices/tables"), t => t.Template.Deployment!.Text("name") != "storage");

        // The host and the app reach the data account; the ledger digests stay there, under their WORM policy.
        var functionApp = site.Template.Deployment!;
        Assert.All(new[] { "blobEndpoint", "queueEndpoint", "tableEndpoint" }, endpoint =>
            Assert.Equal("storage", ModuleOf(functionApp, $"properties.parameters.{endpoint}.value")));
        Assert.Equal("storage", Template.Single("Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies").Template.Deployment!.Text("name"));
    }

    [Fact]
    public void DeploymentPackage_OnlyTheDeploymentIdentityMayWriteIt_AndItHoldsNoOtherRole()
    {
        var assignments = Template.OfType("Microsoft.Authorization/roleAssignments");

        // One role for the deployment identity: Blob Data Contributor on the package container, nothing wider.
        var writer = Assert.Single(assignments, a => a.Text("properties.principalId") == DeploymentIdentityPrincipal);
        Assert.Equal(StorageBlobDataContributor, RoleId(writer));
        Assert.Equal(
            "[resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', parameters('deploymentStorageAccountName'), 'default', 'deployment-packages')]",
            writer.Text("scope"));

        // Nobody else has a data role on the deployment account: the app identity's roles are all on the data account.
        Assert.DoesNotContain(assignments.Except([writer]), a => (a.Text("scope") ?? "").Contains("deploymentStorageAccountName", StringComparison.Ordinal));
        var appBlobRole = assignments.Single(a => RoleId(a) == StorageBlobDataContributor && a.Text("properties.principalId") == "[reference('appIdentity').principalId]");
        Assert.StartsWith("[resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', parameters('storageAccountName')", appBlobRole.Text("scope"), StringComparison.Ordinal);
        Assert.DoesNotContain("deployment-packages", appBlobRole.Template.Text(appBlobRole.Template.Json["variables"]!["containerNames"]), StringComparison.Ordinal);

        // Flex Consumption reads and writes the package with the deployment identity; the app runs as the other one.
        var site = Template.Single("Microsoft.Web/sites");
        Assert.Equal("deployment-identity", ModuleOf(site, "properties.functionAppConfig.deployment.storage.authentication.userAssignedIdentityResourceId"));
        Assert.Equal("identity", ModuleOf(site, "properties.keyVaultReferenceIdentity"));
        Assert.Equal("identity", ModuleOf(site.Template.Deployment!, "properties.parameters.identityClientId.value"));
    }

    // Names declared by one main.bicep module (a loop's from its array variable).
    private HashSet<string> DeclaredNamesIn(string module, string type) =>
        DeclaredNames(Template.OfType(type).Where(r => r.Template.Deployment!.Text("name") == module));
}
