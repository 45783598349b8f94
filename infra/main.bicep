// Entry point for `azd up`: one resource group holding the Cafetalk integrations function app and what it needs.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Azure region for every resource (one that offers Flex Consumption).')
param location string

@description('Principal id of the person or pipeline running azd; granted Key Vault Secrets Officer to set the secrets.')
param principalId string = ''

@description('Whether principalId is a user or a service principal (CI).')
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('Zoom user id hosting lessons of lecturers not in table ZoomHosts.')
param zoomDefaultHostUserId string = ''

@description('Public https base URL for newsletter links (a custom domain); empty uses the app\'s azurewebsites.net name.')
param newsletterPublicBaseUrl string = ''

@description('Comma-separated field-protection key ids in use (docs/operations.md, key rotation).')
param fieldProtectionKeyIds string = 'k1'

@description('Field-protection key id new values are encrypted with.')
param fieldProtectionCurrentKeyId string = 'k1'

@description('Comma-separated unsubscribe-token HMAC key ids in use (docs/operations.md, key rotation).')
param newsletterTokenKeyIds string = 'k1'

@description('HMAC key id new unsubscribe tokens are signed with.')
param newsletterCurrentTokenKeyId string = 'k1'

@description('The privacy office\'s RSA public key (base64 SubjectPublicKeyInfo, 3072 bits or more) that erasure seals pseudonym mappings under; its private key never reaches Azure (docs/privacy.md).')
param privacyOfficePublicKey string = ''

@description('Days each ledger digest blob stays immutable from its creation: 3 years (APPI Art. 29, 1,096 days with a leap day) plus two months, more than the month a log blob is appended to.')
param ledgerDigestRetentionDays int = 1158

@description('True once the postprovision hook has locked the ledger-digests immutability policy (azd env LEDGER_DIGESTS_POLICY_LOCKED): a locked policy can no longer be redeployed, only left as it is.')
param ledgerDigestsPolicyLocked bool = false

@description('Email address the operations alerts go to (azd env ALERT_EMAIL_ADDRESS); empty leaves the action group without a receiver.')
param alertEmailAddress string = ''

@description('Network isolation (azd env VNET_ENABLED): private endpoints for storage and Key Vault, their public endpoints off, the app in a VNet.')
param vnetEnabled bool = true

// Deterministic per subscription, environment and region, so a redeploy updates the same resources.
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var identityName = 'id-${resourceToken}'
var storageAccountName = 'st${resourceToken}'
// The package account: apart from the data, so a data-plane role there cannot replace the code (docs/privacy.md).
var deploymentStorageAccountName = 'stpkg${resourceToken}'
var deploymentIdentityName = 'id-deploy-${resourceToken}'
var keyVaultName = 'kv-${resourceToken}'
var ledgerDigestKeyName = 'ledger-digest'
var applicationInsightsName = 'appi-${resourceToken}'
var logAnalyticsName = 'log-${resourceToken}'
var functionAppName = 'func-${resourceToken}'
var tags = {
  'azd-env-name': environmentName
}

resource resourceGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: resourceGroup
  params: {
    name: identityName
    location: location
    tags: tags
  }
}

// Only Flex Consumption's package reads and writes use it: the app identity has no role on the package.
module deploymentIdentity 'app/identity.bicep' = {
  name: 'deployment-identity'
  scope: resourceGroup
  params: {
    name: deploymentIdentityName
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: resourceGroup
  params: {
    logAnalyticsName: logAnalyticsName
    applicationInsightsName: applicationInsightsName
    location: location
    tags: tags
  }
}

module alerts 'app/alerts.bicep' = {
  name: 'alerts'
  scope: resourceGroup
  // The rules query the component by name, so it must exist first.
  dependsOn: [
    monitoring
  ]
  params: {
    applicationInsightsName: applicationInsightsName
    actionGroupName: 'ag-${resourceToken}'
    alertEmailAddress: alertEmailAddress
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: resourceGroup
  params: {
    name: storageAccountName
    location: location
    tags: tags
    ledgerDigestRetentionDays: ledgerDigestRetentionDays
    ledgerDigestsPolicyLocked: ledgerDigestsPolicyLocked
    privateOnly: vnetEnabled
  }
}

module deploymentStorage 'app/deployment-storage.bicep' = {
  name: 'deployment-storage'
  scope: resourceGroup
  params: {
    name: deploymentStorageAccountName
    location: location
    tags: tags
    privateOnly: vnetEnabled
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault'
  scope: resourceGroup
  params: {
    name: keyVaultName
    location: location
    tags: tags
    ledgerDigestKeyName: ledgerDigestKeyName
    privateOnly: vnetEnabled
  }
}

module network 'app/network.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: resourceGroup
  dependsOn: [
    storage
    deploymentStorage
    keyVault
  ]
  params: {
    name: 'vnet-${resourceToken}'
    location: location
    tags: tags
    storageAccountName: storageAccountName
    deploymentStorageAccountName: deploymentStorageAccountName
    keyVaultName: keyVaultName
  }
}

module roles 'app/roles.bicep' = {
  name: 'roles'
  scope: resourceGroup
  // Names are passed as known values (not outputs) so What-If can predict the assignments.
  dependsOn: [
    identity
    deploymentIdentity
    storage
    deploymentStorage
    keyVault
    monitoring
  ]
  params: {
    storageAccountName: storageAccountName
    deploymentStorageAccountName: deploymentStorageAccountName
    deploymentIdentityName: deploymentIdentityName
    keyVaultName: keyVaultName
    ledgerDigestKeyName: ledgerDigestKeyName
    applicationInsightsName: applicationInsightsName
    appIdentityName: identityName
    operatorPrincipalId: principalId
    operatorPrincipalType: principalType
  }
}

module functionApp 'app/functionapp.bicep' = {
  name: 'functionapp'
  scope: resourceGroup
  // The host reads storage and Key Vault as soon as it starts: grant access first.
  dependsOn: [
    roles
  ]
  params: {
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    serviceName: 'integrations'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    deploymentIdentityId: deploymentIdentity.outputs.id
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerUrl: deploymentStorage.outputs.deploymentContainerUrl
    keyVaultUri: keyVault.outputs.uri
    ledgerDigestKeyUri: keyVault.outputs.ledgerDigestKeyUri
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    zoomDefaultHostUserId: zoomDefaultHostUserId
    newsletterPublicBaseUrl: newsletterPublicBaseUrl
    fieldProtectionKeyIds: fieldProtectionKeyIds
    fieldProtectionCurrentKeyId: fieldProtectionCurrentKeyId
    newsletterTokenKeyIds: newsletterTokenKeyIds
    newsletterCurrentTokenKeyId: newsletterCurrentTokenKeyId
    privacyOfficePublicKey: privacyOfficePublicKey
    appSubnetId: vnetEnabled ? network!.outputs.appSubnetId : ''
    // The lowest instance ceiling Flex Consumption documents: bounds the load we put on Zoom, Google and Vimeo.
    maximumInstanceCount: 40
    instanceMemoryMB: 2048
  }
}

module diagnostics 'app/diagnostics.bicep' = {
  name: 'diagnostics'
  scope: resourceGroup
  // Names are passed as known values (not outputs) so What-If can predict the settings.
  dependsOn: [
    monitoring
    storage
    deploymentStorage
    keyVault
    functionApp
  ]
  params: {
    logAnalyticsName: logAnalyticsName
    storageAccountName: storageAccountName
    deploymentStorageAccountName: deploymentStorageAccountName
    keyVaultName: keyVaultName
    functionAppName: functionAppName
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URI string = functionApp.outputs.uri
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_URI string = keyVault.outputs.uri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_DEPLOYMENT_STORAGE_ACCOUNT_NAME string = deploymentStorage.outputs.name
output AZURE_USER_ASSIGNED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
