// The Flex Consumption (FC1) plan and the function app: dotnet-isolated 10.0, user-assigned identity,
// identity-based storage, Key Vault references for every secret, telemetry with Entra ID.

@description('Function app name (globally unique host name).')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags applied to the plan.')
param tags object

@description('azd service name from azure.yaml; azd finds the app to deploy to by this tag.')
param serviceName string

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity (settings name it so the host picks it over any other).')
param identityClientId string

@description('Resource id of the identity Flex Consumption reads and writes the deployment package with (no data role).')
param deploymentIdentityId string

@description('Blob endpoint of the storage account, ending in /.')
param blobEndpoint string

@description('Queue endpoint of the storage account, ending in /.')
param queueEndpoint string

@description('Table endpoint of the storage account, ending in /.')
param tableEndpoint string

@description('Container URL Flex Consumption deploys the package from (in the deployment storage account, not the data one).')
param deploymentContainerUrl string

@description('Key Vault URI, ending in /.')
param keyVaultUri string

@description('Versionless URI of the Key Vault key that signs ledger digest lines.')
param ledgerDigestKeyUri string

@description('Application Insights connection string (an ingestion endpoint and an id; useless without an Entra ID token).')
param applicationInsightsConnectionString string

@description('Zoom user id that hosts the lessons of lecturers not listed in table ZoomHosts (not a secret).')
param zoomDefaultHostUserId string

@description('Public https base URL of the app for newsletter links; empty means https://<app>.azurewebsites.net/.')
param newsletterPublicBaseUrl string

@description('Comma-separated ids of the field-protection (AES-GCM) keys in use, e.g. k1 or k1,k2 while rotating.')
param fieldProtectionKeyIds string

@description('Id of the field-protection key new values are encrypted with; one of fieldProtectionKeyIds.')
param fieldProtectionCurrentKeyId string

@description('Comma-separated ids of the unsubscribe-token HMAC keys in use.')
param newsletterTokenKeyIds string

@description('Id of the HMAC key new unsubscribe tokens are signed with; one of newsletterTokenKeyIds.')
param newsletterCurrentTokenKeyId string

@description('The privacy office\'s RSA public key (base64 SubjectPublicKeyInfo): erasure seals pseudonym mappings under it. Not secret.')
param privacyOfficePublicKey string

@description('Upper bound on instances: keeps the calls to Zoom, Google and Vimeo within their rate limits.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Key ids of the Google Calendar connect-ticket HMAC keys, comma-separated; the last is current. One Key Vault secret per id: calendar-ticket-key-<id>.')
param calendarTicketKeyIds string = 'k1'

@description('The mail service\'s suppression group id of the newsletter list cafetalk-news (empty: set it after the first deploy).')
param newsletterSuppressionGroupId string = ''

@description('Domains where lesson recordings may be embedded.')
param vimeoEmbedDomain string = 'cafetalk.com'

@description('Subnet (delegated to Microsoft.App/environments) the app joins for outbound calls; empty: no VNet integration.')
param appSubnetId string = ''

// Versionless secret URIs: the app picks up a new secret version on restart, without a redeploy.
var secretsUri = '${keyVaultUri}secrets/'

// Flex Consumption takes FUNCTIONS_WORKER_RUNTIME and the extension version from functionAppConfig, not from settings.
var settings = {
  // Identity-based AzureWebJobsStorage: no connection string, no key (StorageAccount.FromConfiguration reads these).
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: blobEndpoint
  AzureWebJobsStorage__queueServiceUri: queueEndpoint
  AzureWebJobsStorage__tableServiceUri: tableEndpoint
  // DefaultAzureCredential in the app picks this identity.
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identityClientId}'
  // Every 15 minutes: rows written since the last digest can be deleted unseen for at most this long (docs/privacy.md).
  LedgerDigestSchedule: '0 */15 * * * *'
  Ledger__DigestSigning__KeyId: ledgerDigestKeyUri
  // The other nightly jobs run one after another in the quiet hours of Japan (03:xx UTC is 12:xx JST: Europe's night).
  ErasureRetrySchedule: '0 15 3 * * *'
  HostPoisonSweepSchedule: '0 */5 * * * *'
  // Lessons starting within StartsSoon__Window (2 h) get one more converge; what is still wrong raises lesson-at-risk.
  StartsSoonSchedule: '0 */10 * * * *'
  ZoomRepairSchedule: '0 20 3 * * *'
  NewsletterReconcileSchedule: '0 30 3 * * *'
  CalendarSyncSchedule: '0 35 3 * * *'
  // Watch channels last about a week; every 6 hours opens missing ones and replaces those ending within a day.
  CalendarWatchSchedule: '0 50 */6 * * *'
  GoogleCalendar__NotificationAddress: '${empty(newsletterPublicBaseUrl) ? 'https://${name}.azurewebsites.net/' : newsletterPublicBaseUrl}api/google/calendar-notifications'
  VimeoRetentionSchedule: '0 40 3 * * *'
  LedgerRetentionSchedule: '0 45 3 * * *'
  GoogleCalendar__RedirectUri: '${empty(newsletterPublicBaseUrl) ? 'https://${name}.azurewebsites.net/' : newsletterPublicBaseUrl}api/calendar/callback'
  GoogleCalendar__CurrentTicketKeyId: trim(last(split(calendarTicketKeyIds, ',')))
  Vimeo__EmbedDomains__0: vimeoEmbedDomain
  Zoom__DefaultHostUserId: zoomDefaultHostUserId
  Newsletter__PublicBaseUrl: empty(newsletterPublicBaseUrl) ? 'https://${name}.azurewebsites.net/' : newsletterPublicBaseUrl
  FieldProtection__CurrentKeyId: fieldProtectionCurrentKeyId
  Newsletter__CurrentTokenKeyId: newsletterCurrentTokenKeyId
  Erasure__PrivacyOfficePublicKey: privacyOfficePublicKey
  // Secrets: Key Vault references only; the values live in the vault, set by operators.
  Zoom__AccountId: '@Microsoft.KeyVault(SecretUri=${secretsUri}zoom-account-id)'
  Zoom__ClientId: '@Microsoft.KeyVault(SecretUri=${secretsUri}zoom-client-id)'
  Zoom__ClientSecret: '@Microsoft.KeyVault(SecretUri=${secretsUri}zoom-client-secret)'
  Zoom__WebhookSecretToken: '@Microsoft.KeyVault(SecretUri=${secretsUri}zoom-webhook-secret-token)'
  Zoom__BookingReferenceKey: '@Microsoft.KeyVault(SecretUri=${secretsUri}zoom-booking-reference-key)'
  GoogleCalendar__ClientId: '@Microsoft.KeyVault(SecretUri=${secretsUri}google-client-id)'
  GoogleCalendar__ClientSecret: '@Microsoft.KeyVault(SecretUri=${secretsUri}google-client-secret)'
  GoogleCalendar__EventIdKey: '@Microsoft.KeyVault(SecretUri=${secretsUri}calendar-event-id-key)'
  Vimeo__ReferenceKey: '@Microsoft.KeyVault(SecretUri=${secretsUri}vimeo-reference-key)'
  Vimeo__AccessToken: '@Microsoft.KeyVault(SecretUri=${secretsUri}vimeo-access-token)'
  MailService__ApiKey: '@Microsoft.KeyVault(SecretUri=${secretsUri}mail-api-key)'
  Erasure__MemberKey: '@Microsoft.KeyVault(SecretUri=${secretsUri}erasure-member-key)'
  // The privacy-office routes' own key (export, erase): no function or host key opens them.
  PrivacyOffice__ApiKey: '@Microsoft.KeyVault(SecretUri=${secretsUri}privacy-office-api-key)'
  // The site's key for a pool-hosted lesson's start link (POST /api/zoom/start-link/...), besides the function key.
  Zoom__StartLinkSiteKey: '@Microsoft.KeyVault(SecretUri=${secretsUri}zoom-start-link-site-key)'
}

// Key rings bind to Dictionary<keyId, key>: one setting and one secret per key id, so rotating adds an id here.
var fieldProtectionKeys = toObject(
  split(fieldProtectionKeyIds, ','),
  keyId => 'FieldProtection__Keys__${trim(keyId)}',
  keyId => '@Microsoft.KeyVault(SecretUri=${secretsUri}field-protection-key-${trim(keyId)})'
)
var calendarTicketKeys = toObject(
  split(calendarTicketKeyIds, ','),
  keyId => 'GoogleCalendar__TicketKeys__${trim(keyId)}',
  keyId => '@Microsoft.KeyVault(SecretUri=${secretsUri}calendar-ticket-key-${trim(keyId)})'
)
var suppressionGroups = empty(newsletterSuppressionGroupId) ? {} : { 'Newsletter__SuppressionGroups__cafetalk-news': newsletterSuppressionGroupId }
var newsletterTokenKeys = toObject(
  split(newsletterTokenKeyIds, ','),
  keyId => 'Newsletter__TokenKeys__${trim(keyId)}',
  keyId => '@Microsoft.KeyVault(SecretUri=${secretsUri}newsletter-token-key-${trim(keyId)})'
)

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    // Flex Consumption runs on Linux only.
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
      '${deploymentIdentityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the user-assigned identity (the default would be a system identity it lacks).
    keyVaultReferenceIdentity: identityId
    // With network isolation, storage, Key Vault (references included) and providers are reached through the VNet.
    virtualNetworkSubnetId: empty(appSubnetId) ? null : appSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          // The deployment identity: the app identity, which holds the data roles, has no role on the package.
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: deploymentIdentityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

resource appSettings 'Microsoft.Web/sites/config@2024-11-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(settings, fieldProtectionKeys, newsletterTokenKeys, calendarTicketKeys, suppressionGroups)
}

// No FTP and no basic-auth deployment credentials: azd deploys with an Entra ID token.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = functionApp.name
output uri string = 'https://${functionApp.properties.defaultHostName}'
