using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Tests.Infra;

/// <summary>infra/main.bicep compiled once with the restored bicep CLI, shared by the template tests.</summary>
public sealed class CompiledMainTemplate
{
    private readonly ArmTemplate? _template;

    public CompiledMainTemplate()
    {
        Build = BicepCli.Run("build", "main.bicep", "--stdout");
        _template = Build.ExitCode == 0 ? ArmTemplate.Parse(Build.StandardOutput) : null;
    }

    internal BicepResult Build { get; }

    internal ArmTemplate Template => _template ?? throw new Xunit.Sdk.XunitException($"main.bicep did not build:\n{Build}");
}

/// <summary>Reads the ARM JSON that azd would deploy and checks the properties the issue asks for.</summary>
public sealed partial class BicepTemplateTests(CompiledMainTemplate compiled) : IClassFixture<CompiledMainTemplate>
{
    // Settings that hold secrets, and the Key Vault secret each must reference.
    public static TheoryData<string, string> SecretSettings => new()
    {
        { "Zoom__AccountId", "zoom-account-id" },
        { "Zoom__ClientId", "zoom-client-id" },
        { "Zoom__ClientSecret", "zoom-client-secret" },
        { "Zoom__WebhookSecretToken", "zoom-webhook-secret-token" },
        { "GoogleCalendar__ClientId", "google-client-id" },
        { "GoogleCalendar__ClientSecret", "google-client-secret" },
        { "GoogleCalendar__EventIdKey", "calendar-event-id-key" },
        { "Vimeo__ReferenceKey", "vimeo-reference-key" },
        { "Vimeo__AccessToken", "vimeo-access-token" },
        { "MailService__ApiKey", "mail-api-key" },
        { "Zoom__BookingReferenceKey", "zoom-booking-reference-key" },
        { "Erasure__MemberKey", "erasure-member-key" },
        { "PrivacyOffice__ApiKey", "privacy-office-api-key" },
        { "Zoom__StartLinkSiteKey", "zoom-start-link-site-key" },
    };

    private const string StorageBlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
    private const string StorageQueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
    private const string StorageTableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
    private const string KeyVaultSecretsUser = "4633458b-17de-408a-b874-0445c86b69e6";
    private const string KeyVaultSecretsOfficer = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";
    private const string MonitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";
    private const string KeyVaultCryptoUser = "12338af0-0e69-4776-bea7-57ae8d297424";

    private ArmTemplate Template => compiled.Template;

    [Fact]
    public void Build_MainBicep_SucceedsWithoutWarnings()
    {
        Assert.True(compiled.Build.ExitCode == 0, compiled.Build.ToString());
        Assert.True(string.IsNullOrWhiteSpace(compiled.Build.StandardError), $"bicep build reported:\n{compiled.Build.StandardError}");
    }

    [Fact]
    public void FunctionApp_RunsOnFlexConsumptionDotnetIsolated10WithUserAssignedIdentity()
    {
        var plan = Template.Single("Microsoft.Web/serverfarms");
        Assert.Equal("FC1", plan.Text("sku.name"));
        Assert.Equal("FlexConsumption", plan.Text("sku.tier"));

        var site = Template.Single("Microsoft.Web/sites");
        Assert.Equal("functionapp,linux", site.Text("kind"));
        Assert.Equal("dotnet-isolated", site.Text("properties.functionAppConfig.runtime.name"));
        Assert.Equal("10.0", site.Text("properties.functionAppConfig.runtime.version"));
        Assert.Equal("UserAssigned", site.Text("identity.type"));
        Assert.Equal("blobContainer", site.Text("properties.functionAppConfig.deployment.storage.type"));
        Assert.Equal("UserAssignedIdentity", site.Text("properties.functionAppConfig.deployment.storage.authentication.type"));

        // The package container, the identity used to read it and the identity resolving Key Vault references
        // are the ones this template creates.
        Assert.Contains("deployment-packages", site.Text("properties.functionAppConfig.deployment.storage.value"), StringComparison.Ordinal);
        var identity = site.Text("properties.keyVaultReferenceIdentity");
        Assert.StartsWith("[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities'", identity, StringComparison.Ordinal);
        Assert.Equal(["identityId", "deploymentIdentityId"], site.Json["identity"]!["userAssignedIdentities"]!.AsObject().Select(i => LastLiteral(i.Key)));
        Assert.Equal(identity, site.Template.Text(JsonValue.Create("[parameters('identityId')]")));
        Assert.Equal("identity", ModuleOf(site, "properties.keyVaultReferenceIdentity"));
    }

    [Fact]
    public void FunctionApp_AcceptsOnlyHttpsWithTls12AndNoFtpOrBasicAuth()
    {
        var site = Template.Single("Microsoft.Web/sites");
        Assert.True(site.Value<bool>("properties.httpsOnly"));
        Assert.Equal("1.2", site.Text("properties.siteConfig.minTlsVersion"));
        Assert.Equal("1.2", site.Text("properties.siteConfig.scmMinTlsVersion"));
        Assert.Equal("Disabled", site.Text("properties.siteConfig.ftpsState"));

        var publishing = Template.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies");
        Assert.Equal(["ftp", "scm"], publishing.Select(p => LastLiteral(p.Text("name"))).Order());
        Assert.All(publishing, p => Assert.False(p.Value<bool>("properties.allow")));
    }

    [Fact]
    public void AppSettings_GiveEveryTimerASixFieldSchedule()
    {
        var settings = AppSettings();

        Assert.All(Functions.FunctionsMetadataTests.TimerScheduleSettings(), name =>
            Assert.True(settings.TryGetValue(name, out var value) && Functions.FunctionsMetadataTests.IsNcrontab(value),
                $"The function app sets timer setting '{name}' to no six-field NCRONTAB value."));
    }

    [Fact]
    public void AppSettings_ConnectToStorageWithTheManagedIdentityOnly()
    {
        var settings = AppSettings();
        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.Contains("clientId", settings["AzureWebJobsStorage__clientId"], StringComparison.Ordinal);
        Assert.Contains("primaryEndpoints.blob", settings["AzureWebJobsStorage__blobServiceUri"], StringComparison.Ordinal);
        Assert.Contains("primaryEndpoints.queue", settings["AzureWebJobsStorage__queueServiceUri"], StringComparison.Ordinal);
        Assert.Contains("primaryEndpoints.table", settings["AzureWebJobsStorage__tableServiceUri"], StringComparison.Ordinal);

        // A plain AzureWebJobsStorage would be a connection string, and Flex Consumption refuses these settings.
        foreach (var refused in new[] { "AzureWebJobsStorage", "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING" })
        {
            Assert.False(settings.ContainsKey(refused), $"App setting '{refused}' must not be set.");
        }
    }

    [Theory]
    [MemberData(nameof(SecretSettings))]
    public void AppSettings_ReferenceEachSecretInKeyVault(string setting, string secretName)
    {
        var value = AppSettings()[setting];
        Assert.Matches($@"^\[format\('@Microsoft\.KeyVault\(SecretUri=\{{0\}}{Regex.Escape(secretName)}\)', format\('\{{0\}}secrets/', parameters\('keyVaultUri'\)\)\)\]$", value);

        // keyVaultUri is the vault this template creates.
        var functionApp = Template.Single("Microsoft.Web/sites").Template.Deployment!;
        Assert.Matches(@"^\[reference\(resourceId\('Microsoft\.KeyVault/vaults', parameters\('name'\)\), '[^']+'\)\.vaultUri\]$", functionApp.Text("properties.parameters.keyVaultUri.value"));
    }

    [Theory]
    [InlineData("FieldProtection__Keys__", "field-protection-key-", "fieldProtectionKeyIds")]
    [InlineData("Newsletter__TokenKeys__", "newsletter-token-key-", "newsletterTokenKeyIds")]
    [InlineData("GoogleCalendar__TicketKeys__", "calendar-ticket-key-", "calendarTicketKeyIds")]
    public void AppSettings_ReferenceOneKeyVaultSecretPerKeyId(string settingPrefix, string secretPrefix, string keyIdsParameter)
    {
        // toObject(split(ids, ','), id => '<prefix><id>', id => '@Microsoft.KeyVault(SecretUri=<vault>secrets/<secret prefix><id>)')
        var ring = Assert.Single(KeyRingSettings(), r => r.Value.Contains($"'{settingPrefix}{{0}}'", StringComparison.Ordinal)).Value;
        Assert.StartsWith($"[toObject(split(parameters('{keyIdsParameter}'), ',')", ring, StringComparison.Ordinal);
        Assert.Contains($"format('@Microsoft.KeyVault(SecretUri={{0}}{secretPrefix}{{1}})', format('{{0}}secrets/', parameters('keyVaultUri'))", ring, StringComparison.Ordinal);

        // azd passes the ids through main.bicep; the first deployment starts with one key, k1.
        var functionApp = Template.Single("Microsoft.Web/sites").Template;
        Assert.Equal("k1", functionApp.Text(JsonValue.Create($"[parameters('{keyIdsParameter}')]")));
    }

    [Fact]
    public void AppSettings_HoldNoSecretValue()
    {
        // Names that look secret but hold none: an auth mode, key ids, an ingestion address that is useless
        // without an Entra ID token (local auth is off, asserted in Telemetry_IsSentWithEntraIdOnLogAnalytics), the
        // URI of the non-exportable ledger digest key (only the app's identity may sign with it) and the privacy
        // office's public key (it only seals).
        string[] notSecret = ["AzureWebJobsStorage__credential", "FieldProtection__CurrentKeyId", "Newsletter__CurrentTokenKeyId", "GoogleCalendar__CurrentTicketKeyId", "APPLICATIONINSIGHTS_CONNECTION_STRING", "Ledger__DigestSigning__KeyId", "Erasure__PrivacyOfficePublicKey"];
        foreach (var (name, value) in AppSettings().Concat(KeyRingSettings()))
        {
            Assert.DoesNotMatch(@"(?i)listKeys|listSecrets|listAccountSas|AccountKey=|SharedAccessSignature=|SharedAccessKey=|InstrumentationKey=|ClientSecret=", value);
            if (SecretLookingName().IsMatch(name) && !notSecret.Contains(name))
            {
                Assert.True(value.Contains("@Microsoft.KeyVault(SecretUri=", StringComparison.Ordinal), $"App setting '{name}' looks secret but is not a Key Vault reference: {value}");
            }
        }

        // Secret values never pass through a deployment: no secure parameters, no secret resources.
        var secureParameters = Templates()
            .SelectMany(t => t.Json["parameters"]?.AsObject() ?? [])
            .Where(p => p.Value!["type"]!.GetValue<string>().StartsWith("secure", StringComparison.OrdinalIgnoreCase))
            .Select(p => p.Key);
        Assert.Empty(secureParameters);
        Assert.Empty(Template.OfType("Microsoft.KeyVault/vaults/secrets"));
    }

    [Fact]
    public void Telemetry_IsSentWithEntraIdOnLogAnalytics()
    {
        var insights = Template.Single("Microsoft.Insights/components");
        Assert.True(insights.Value<bool>("properties.DisableLocalAuth"));
        Assert.Contains("Microsoft.OperationalInsights/workspaces", insights.Text("properties.WorkspaceResourceId"), StringComparison.Ordinal);
        Assert.True(Template.Single("Microsoft.OperationalInsights/workspaces").Value<bool>("properties.features.disableLocalAuth"));

        var settings = AppSettings();
        Assert.Equal("[format('Authorization=AAD;ClientId={0}', parameters('identityClientId'))]", settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
        Assert.Equal(settings["AzureWebJobsStorage__clientId"], settings["AZURE_CLIENT_ID"]);
        Assert.Contains("ConnectionString", settings["APPLICATIONINSIGHTS_CONNECTION_STRING"], StringComparison.Ordinal);
    }

    [Fact]
    public void Storage_RefusesSharedKeysPublicBlobsAndOldTls()
    {
        // Both accounts: the data and the deployment package.
        var accounts = Template.OfType("Microsoft.Storage/storageAccounts");
        Assert.Equal(2, accounts.Count);
        Assert.All(accounts, storage =>
        {
            Assert.False(storage.Value<bool>("properties.allowSharedKeyAccess"));
            Assert.False(storage.Value<bool>("properties.allowBlobPublicAccess"));
            Assert.False(storage.Value<bool>("properties.allowCrossTenantReplication"));
            Assert.True(storage.Value<bool>("properties.supportsHttpsTrafficOnly"));
            Assert.Equal("TLS1_2", storage.Text("properties.minimumTlsVersion"));
        });
        Assert.All(Template.OfType("Microsoft.Storage/storageAccounts/blobServices/containers"), c => Assert.Equal("None", c.Text("properties.publicAccess")));
    }

    [Fact]
    public void Storage_DeclaresEveryQueueTableAndContainerTheAppUses()
    {
        var queues = DeclaredNames("Microsoft.Storage/storageAccounts/queueServices/queues");
        var tables = DeclaredNames("Microsoft.Storage/storageAccounts/tableServices/tables");
        var containers = DeclaredNames("Microsoft.Storage/storageAccounts/blobServices/containers");

        // The app's own name lists: a queue or table added in code without infra fails here, not with a 403 in Azure.
        Assert.Subset(queues, QueueNames.All.ToHashSet());
        Assert.Subset(tables, TableNames.All.ToHashSet());
        Assert.Subset(containers, BlobContainerNames.All.ToHashSet());

        // The names the design fixes for capabilities still being built.
        Assert.Subset(queues, new HashSet<string> { "booking-events", "booking-events-poison", "newsletter-events", "newsletter-events-poison", "erasure-requests", "erasure-requests-poison", "mail-suppressions", "mail-suppressions-poison", "zoom-converge", "zoom-converge-poison", "zoom-events" });
        Assert.Subset(tables, new HashSet<string> { "Bookings", "Subjects", "DisclosureLedger", "ZoomHosts", "ZoomHostQuota", "ZoomWebhookEvents", "CalendarConnections", "NewsletterSubscriptions", "ErasureReceipts" });
        Assert.Subset(containers, new HashSet<string> { "poison-payloads", "ledger-digests", "deployment-packages" });
    }

    [Fact]
    public void LedgerDigests_AreImmutableForThreeYearsAndAppendOnly()
    {
        var policy = Template.Single("Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies");
        var segments = Literals(policy.Text("name"));
        Assert.Equal(["default", "ledger-digests", "default"], segments[^3..]);
        // Retention runs from a blob's creation and a log blob takes lines for a month: 3 years (1,096 days) past its last line.
        Assert.True(policy.Value<int>("properties.immutabilityPeriodSinceCreationInDays") >= 1096 + 31, "APPI Art. 29 asks for 3 years after the last line of a monthly blob.");
        Assert.True(policy.Value<bool>("properties.allowProtectedAppendWrites"));
        // Deployed until the hook has locked it; a locked policy is left out (ARM can no longer change it).
        Assert.Contains("ledgerDigestsPolicyLocked", policy.Json["condition"]?.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void LedgerDigests_PolicyIsLockedByTheAzdPostprovisionHook()
    {
        var root = RepositoryRoot.Find();
        var azureYaml = File.ReadAllText(Path.Combine(root, "azure.yaml"));
        Assert.Matches(@"hooks:\s*\n(?:\s*#.*\n)*\s+postprovision:\s*\n\s+posix:\s*\n\s+shell: sh\s*\n\s+run: \./infra/hooks/lock-ledger-digests\.sh", azureYaml);

        var hook = File.ReadAllText(Path.Combine(root, "infra", "hooks", "lock-ledger-digests.sh"));
        Assert.Contains("set -eu", hook, StringComparison.Ordinal);
        Assert.Contains("container=ledger-digests", hook, StringComparison.Ordinal);
        Assert.Contains("az storage container immutability-policy lock", hook, StringComparison.Ordinal);
        Assert.Contains("--if-match \"$(policy etag)\"", hook, StringComparison.Ordinal);
        // It fails the provision unless the policy ends Locked, and then keeps later provisions from redeploying it.
        Assert.Contains("if [ \"$state\" != \"Locked\" ]; then", hook, StringComparison.Ordinal);
        Assert.Contains("azd env set LEDGER_DIGESTS_POLICY_LOCKED true", hook, StringComparison.Ordinal);
        var parameters = JsonNode.Parse(File.ReadAllText(Path.Combine(BicepCli.InfraDirectory, "main.parameters.json")))!["parameters"]!;
        Assert.Equal("${LEDGER_DIGESTS_POLICY_LOCKED=false}", parameters["ledgerDigestsPolicyLocked"]!["value"]!.GetValue<string>());
    }

    [Fact]
    public void LedgerDigestKey_IsANonExportableP256SigningKeyTheAppMayOnlyUse()
    {
        var key = Template.Single("Microsoft.KeyVault/vaults/keys");
        Assert.Equal(("EC", "P-256"), (key.Text("properties.kty"), key.Text("properties.curveName")));
        Assert.Equal(["sign", "verify"], key.At("properties.keyOps")!.AsArray().Select(o => o!.GetValue<string>()));
        Assert.False(key.Value<bool>("properties.attributes.exportable"));

        // Key Vault Crypto User on this key alone: sign and read the public half, nothing on any other key or secret.
        var signer = Template.OfType("Microsoft.Authorization/roleAssignments").Single(a => RoleId(a) == KeyVaultCryptoUser);
        Assert.Contains("Microsoft.KeyVault/vaults/keys'", signer.Text("scope"), StringComparison.Ordinal);
        Assert.Contains("appIdentity", signer.Text("properties.principalId"), StringComparison.Ordinal);

        var settings = AppSettings();
        Assert.Equal(
            "[reference(resourceId('Microsoft.KeyVault/vaults/keys', parameters('name'), parameters('ledgerDigestKeyName')), '2024-11-01').keyUri]",
            settings["Ledger__DigestSigning__KeyId"]);
        // The undetectable window: rows not yet in a signed digest, at most one interval; verify's staleness bound and the
        // absence alert are derived from the same interval.
        Assert.Equal("0 */15 * * * *", settings["LedgerDigestSchedule"]);
        Assert.Equal(TimeSpan.FromMinutes(15), Cafetalk.Integrations.Disclosure.DisclosureLedgerOptions.DigestInterval);
    }

    [Fact]
    public void KeyVault_UsesRbacAndPurgeProtection()
    {
        var vault = Template.Single("Microsoft.KeyVault/vaults");
        Assert.True(vault.Value<bool>("properties.enableRbacAuthorization"));
        Assert.True(vault.Value<bool>("properties.enablePurgeProtection"));
        Assert.True(vault.Value<bool>("properties.enableSoftDelete"));
        Assert.Null(vault.At("properties.accessPolicies"));
    }

    [Fact]
    public void RoleAssignments_GiveTheAppOnlyWhatItNeeds_EachOnItsOwnResource()
    {
        var assignments = Template.OfType("Microsoft.Authorization/roleAssignments");
        var operatorAssignments = assignments.Where(a => a.Json["properties"]!["principalId"]!.GetValue<string>() == "[parameters('operatorPrincipalId')]").ToList();
        // The deployment identity's one role is checked in DeploymentPackage_OnlyTheDeploymentIdentityMayWriteIt.
        var deploymentAssignments = assignments.Where(a => a.Text("properties.principalId") == "[reference('deploymentIdentity').principalId]").ToList();
        var appAssignments = assignments.Except(operatorAssignments).Except(deploymentAssignments).ToList();
        Assert.All(appAssignments, a =>
        {
            Assert.Contains("appIdentity", a.Text("properties.principalId"), StringComparison.Ordinal);
            Assert.Equal("ServicePrincipal", a.Text("properties.principalType"));
        });

        var scopeByRole = appAssignments.ToDictionary(RoleId, a => a.Text("scope") ?? "(resource group)");
        Assert.Equal(
            new Dictionary<string, string>
            {
                [StorageBlobDataContributor] = "Microsoft.Storage/storageAccounts/blobServices/containers'",
                [StorageQueueDataContributor] = "Microsoft.Storage/storageAccounts/queueServices/queues'",
                [StorageTableDataContributor] = "Microsoft.Storage/storageAccounts/tableServices/tables'",
                [KeyVaultSecretsUser] = "Microsoft.KeyVault/vaults'",
                [KeyVaultCryptoUser] = "Microsoft.KeyVault/vaults/keys'",
                [MonitoringMetricsPublisher] = "Microsoft.Insights/components'",
            },
            scopeByRole.ToDictionary(kv => kv.Key, kv => ScopeType().Match(kv.Value).Value));

        // One queue role per queue, one table role per table, one blob role per container; none on the account.
        var queueRole = appAssignments.Single(a => RoleId(a) == StorageQueueDataContributor);
        Assert.Equal("[length(variables('queueNames'))]", queueRole.Json["copy"]?["count"]?.GetValue<string>());
        var tableRole = appAssignments.Single(a => RoleId(a) == StorageTableDataContributor);
        Assert.Equal("[length(variables('tableNames'))]", tableRole.Json["copy"]?["count"]?.GetValue<string>());
        var blobRole = appAssignments.Single(a => RoleId(a) == StorageBlobDataContributor);
        Assert.Equal("[length(variables('containerNames'))]", blobRole.Json["copy"]?["count"]?.GetValue<string>());
        Assert.DoesNotContain(appAssignments, a => ScopeType().Match(a.Text("scope") ?? "").Value == "Microsoft.Storage/storageAccounts'");

        // The person running azd may set secrets, nothing else, and only when azd names them.
        var operatorRole = Assert.Single(operatorAssignments);
        Assert.Equal(KeyVaultSecretsOfficer, RoleId(operatorRole));
        Assert.Contains("Microsoft.KeyVault/vaults'", operatorRole.Text("scope"), StringComparison.Ordinal);
        Assert.Contains("not(empty(parameters('operatorPrincipalId')))", operatorRole.Json["condition"]?.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void Azd_FindsTheServiceAndGetsItsOutputs()
    {
        var outputs = Template.Json["outputs"]!.AsObject();
        foreach (var name in new[] { "AZURE_LOCATION", "AZURE_TENANT_ID", "AZURE_RESOURCE_GROUP", "AZURE_FUNCTION_APP_NAME", "AZURE_KEY_VAULT_NAME", "AZURE_KEY_VAULT_URI", "AZURE_STORAGE_ACCOUNT_NAME" })
        {
            Assert.True(outputs.ContainsKey(name), $"main.bicep must output {name} for azd.");
        }

        Assert.All(outputs, o => Assert.Equal("string", o.Value!["type"]!.GetValue<string>()));
        Assert.Equal(Template.Single("Microsoft.Web/sites").Text("name"), Template.Text(outputs["AZURE_FUNCTION_APP_NAME"]!["value"]));

        // azure.yaml's one service deploys to the app tagged with its name.
        var azureYaml = File.ReadAllText(Path.Combine(RepositoryRoot.Find(), "azure.yaml"));
        var service = AzureYamlService().Match(azureYaml);
        Assert.True(service.Success, "azure.yaml must declare one service with project, language: dotnet and host: function.");
        Assert.True(File.Exists(Path.Combine(RepositoryRoot.Find(), service.Groups["project"].Value, "Cafetalk.Integrations.Functions.csproj")));
        var site = Template.Single("Microsoft.Web/sites");
        Assert.Contains("'azd-service-name', parameters('serviceName')", site.Text("tags"), StringComparison.Ordinal);
        Assert.Equal(service.Groups["name"].Value, site.Template.Text(JsonValue.Create("[parameters('serviceName')]")));
    }

    [Fact]
    public void ParametersFile_FillsMainFromTheAzdEnvironment()
    {
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(BicepCli.InfraDirectory, "main.parameters.json")))!["parameters"]!.AsObject();
        Assert.Equal("${AZURE_ENV_NAME}", file["environmentName"]!["value"]!.GetValue<string>());
        Assert.Equal("${AZURE_LOCATION}", file["location"]!["value"]!.GetValue<string>());
        Assert.Equal("${AZURE_PRINCIPAL_ID}", file["principalId"]!["value"]!.GetValue<string>());

        var declared = Template.Json["parameters"]!.AsObject();
        Assert.All(file, p => Assert.True(declared.ContainsKey(p.Key), $"main.parameters.json sets '{p.Key}', which main.bicep does not declare."));
        Assert.All(declared.Where(p => p.Value!["defaultValue"] is null), p => Assert.True(file.ContainsKey(p.Key), $"main.bicep requires '{p.Key}'."));
    }

    // The settings written out name by name: the object variables merged into the appsettings resource.
    private Dictionary<string, string> AppSettings() => AppSettingParts()
        .Where(part => part.Value is JsonObject)
        .SelectMany(part => part.Value!.AsObject().Select(kv => (kv.Key, Value: part.Scope.Text(kv.Value) ?? "")))
        .ToDictionary(kv => kv.Key, kv => kv.Value);

    // The settings computed per key id (toObject over a parameter), by variable name, as expressions.
    private Dictionary<string, string> KeyRingSettings() => AppSettingParts()
        .Where(part => part.Value is JsonValue)
        .ToDictionary(part => part.Name, part => part.Scope.Text(part.Value) ?? "");

    private List<(string Name, JsonNode? Value, ArmTemplate Scope)> AppSettingParts()
    {
        var config = Template.OfType("Microsoft.Web/sites/config").Single(c => LastLiteral(c.Text("name")) == "appsettings");
        var properties = config.Json["properties"];
        if (properties is JsonObject)
        {
            return [("properties", properties, config.Template)];
        }

        var merged = properties!.GetValue<string>();
        Assert.StartsWith("[union(", merged, StringComparison.Ordinal);
        return ArmTemplate.VariableReference().Matches(merged)
            .Select(m => (m.Groups["name"].Value, config.Template.Json["variables"]![m.Groups["name"].Value], config.Template))
            .ToList();
    }

    private IEnumerable<ArmTemplate> Templates() => Template.Resources().Select(r => r.Template).Distinct();

    // A loop's names come from the array variable it iterates; a single resource's from the last literal in its name.
    private HashSet<string> DeclaredNames(string type) => DeclaredNames(Template.OfType(type));

    private static HashSet<string> DeclaredNames(IEnumerable<ArmResource> resources) => resources.SelectMany(r =>
    {
        var loop = CopyVariable().Match(r.Json["name"]!.GetValue<string>());
        return loop.Success
            ? r.Template.Json["variables"]![loop.Groups["name"].Value]!.AsArray().Select(n => n!.GetValue<string>())
            : [LastLiteral(r.Text("name"))];
    }).ToHashSet();

    // The main.bicep module a resolved value comes from ("identity", "deployment-storage"); "" for main itself.
    private static string ModuleOf(ArmResource resource, string path) =>
        resource.Template.At(resource.Json, path).Scope.Deployment?.Text("name") ?? "";

    private static string RoleId(ArmResource assignment) =>
        RoleGuid().Match(assignment.Text("properties.roleDefinitionId") ?? "").Value;

    private static string[] Literals(string? expression) =>
        QuotedLiteral().Matches(expression ?? "").Select(m => m.Groups[1].Value).ToArray();

    private static string LastLiteral(string? expression) => Literals(expression) is [.., var last] ? last : expression ?? "";

    [GeneratedRegex(@"(?i)secret|password|token|key|credential|connection_?string|sas")]
    private static partial Regex SecretLookingName();

    [GeneratedRegex(@"variables\('(?<name>[^']+)'\)\[copyIndex\(\)\]")]
    private static partial Regex CopyVariable();

    [GeneratedRegex(@"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex RoleGuid();

    [GeneratedRegex(@"Microsoft\.[A-Za-z]+/[A-Za-z/]+'")]
    private static partial Regex ScopeType();

    [GeneratedRegex(@"'([^']*)'")]
    private static partial Regex QuotedLiteral();

    [GeneratedRegex(@"services:\s*\n\s+(?<name>[a-z0-9-]+):\s*\n(?=(?:\s+\S.*\n)*?\s+project:\s*\./(?<project>\S+))(?=(?:\s+\S.*\n)*?\s+language:\s*dotnet)(?=(?:\s+\S.*\n)*?\s+host:\s*function)")]
    private static partial Regex AzureYamlService();
}
