// Every role assignment, in one place, each scoped to the narrowest resource the caller's requests allow.

import {
  queueNames
  tableNames
  hostContainerNames
  poisonPayloadsContainerName
  ledgerDigestsContainerName
  deploymentPackagesContainerName
} from 'storage-names.bicep'

@description('Storage account the app uses.')
param storageAccountName string

@description('Storage account holding the deployment package only.')
param deploymentStorageAccountName string

@description('Name of the identity Flex Consumption reads and writes the deployment package with.')
param deploymentIdentityName string

@description('Key Vault holding the app\'s secrets.')
param keyVaultName string

@description('Name of the Key Vault key that signs ledger digest lines.')
param ledgerDigestKeyName string

@description('Application Insights component the app sends telemetry to.')
param applicationInsightsName string

@description('Name of the function app\'s user-assigned identity.')
param appIdentityName string

@description('Principal id of the person or pipeline running azd; empty grants nothing.')
param operatorPrincipalId string

@description('Whether the operator principal is a user or a service principal (CI).')
@allowed([
  'User'
  'ServicePrincipal'
])
param operatorPrincipalType string

// Built-in role definition ids (the same in every tenant).
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var keyVaultSecretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
var keyVaultCryptoUser = '12338af0-0e69-4776-bea7-57ae8d297424'
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

// Every container the app or the host touches; each gets its own assignment. Not the package: it is in another account.
var containerNames = concat(hostContainerNames, [
  poisonPayloadsContainerName
  ledgerDigestsContainerName
])

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource containers 'containers' existing = [
      for containerName in containerNames: {
        name: containerName
      }
    ]
  }

  resource tableService 'tableServices' existing = {
    name: 'default'

    resource appTables 'tables' existing = [
      for tableName in tableNames: {
        name: tableName
      }
    ]
  }

  resource queueService 'queueServices' existing = {
    name: 'default'

    resource appQueues 'queues' existing = [
      for queueName in queueNames: {
        name: queueName
      }
    ]
  }
}

resource deploymentStorage 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: deploymentStorageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource deploymentPackages 'containers' existing = {
      name: deploymentPackagesContainerName
    }
  }
}

resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: appIdentityName
}

resource deploymentIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: deploymentIdentityName
}

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: keyVaultName

  resource ledgerDigestKey 'keys' existing = {
    name: ledgerDigestKeyName
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// One assignment per container: the host's locks, timers and keys, poison payloads and ledger digests. Every container
// is declared (storage.bicep), so nothing needs the account scope.
resource appBlobDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (containerName, i) in containerNames: {
    name: guid(storage::blobService::containers[i].id, appIdentity.id, storageBlobDataContributor)
    scope: storage::blobService::containers[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
      principalId: appIdentity.properties.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// The package container only, for the deployment identity: a publish writes the package there and instances read it.
// Nothing else holds a data role on the deployment account.
resource deploymentPackageWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deploymentStorage::blobService::deploymentPackages.id, deploymentIdentity.id, storageBlobDataContributor)
  scope: deploymentStorage::blobService::deploymentPackages
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: deploymentIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// One assignment per queue: Create Queue and message calls address the queue itself, so nothing wider is needed.
resource appQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (queueName, i) in queueNames: {
    name: guid(storage::queueService::appQueues[i].id, appIdentity.id, storageQueueDataContributor)
    scope: storage::queueService::appQueues[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributor)
      principalId: appIdentity.properties.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// One assignment per table: every table is declared (storage.bicep), and the app's start-up create of an existing
// table, which this scope may refuse, is not needed (StorageAccount.EnsureProvisionedAsync lets a 403 pass).
resource appTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (tableName, i) in tableNames: {
    name: guid(storage::tableService::appTables[i].id, appIdentity.id, storageTableDataContributor)
    scope: storage::tableService::appTables[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
      principalId: appIdentity.properties.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Vault scope: the secrets are created by operators after deployment, so there is no secret resource to scope to.
resource appSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appIdentity.id, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Key scope: sign ledger digests and read the key's public half; no other key, no export, no key management.
resource appLedgerDigestSigner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault::ledgerDigestKey.id, appIdentity.id, keyVaultCryptoUser)
  scope: vault::ledgerDigestKey
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultCryptoUser)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Telemetry ingestion with Entra ID (local auth is disabled on the component).
resource appMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, appIdentity.id, monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// The operator sets the secrets after the first deployment (docs/operations.md); no data-plane storage access.
resource operatorSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(vault.id, operatorPrincipalId, keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficer)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}
