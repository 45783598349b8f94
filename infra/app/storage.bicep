// The data storage account: the Functions host's own state, the app's queues and tables, poison payloads and the
// append-only ledger digests. The deployment package lives apart (deployment-storage.bicep). Entra ID access only.

import {
  queueNames
  tableNames
  poisonPayloadsContainerName
  ledgerDigestsContainerName
  hostContainerNames
} from 'storage-names.bicep'
import { hardenedAccountProperties } from 'storage-account.bicep'

@description('Storage account name (3-24 lowercase letters and digits, globally unique).')
param name string

@description('Azure region.')
param location string

@description('Tags applied to the account.')
param tags object

@description('Days a ledger digest blob cannot be changed or deleted after it is created: 3 years (APPI Art. 29, 1,096 days) plus more than the one month a log blob is appended to (retention runs from creation, not from the last line).')
@minValue(1127)
param ledgerDigestRetentionDays int

@description('True: reachable only through its private endpoints (network.bicep); false: over its public endpoint.')
param privateOnly bool

@description('Days a poison payload blob lives (PoisonQueue.Retention: 7; the lifecycle rule runs once a day).')
@minValue(1)
param poisonRetentionDays int = 7

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: hardenedAccountProperties(privateOnly)
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2024-01-01' = {
  parent: storage
  name: 'default'
  properties: {
    // A poison payload deleted by mistake can be recovered for a week.
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource poisonPayloads 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = {
  parent: blobService
  name: poisonPayloadsContainerName
  properties: {
    publicAccess: 'None'
  }
}

// The Functions host's own containers, declared so its role can be granted on them rather than on the account.
resource hostContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = [
  for containerName in hostContainerNames: {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]

// Poison payloads (written by older releases only) are deleted after poisonRetentionDays, whatever else happens.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2024-01-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-poison-payloads'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${poisonPayloadsContainerName}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterCreationGreaterThan: poisonRetentionDays
                }
              }
            }
          }
        }
      ]
    }
  }
}

resource ledgerDigests 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = {
  parent: blobService
  name: ledgerDigestsContainerName
  properties: {
    publicAccess: 'None'
  }
}

@description('True once infra/hooks/lock-ledger-digests.sh has locked the policy: then it is left out of the deployment, which could no longer change it.')
param ledgerDigestsPolicyLocked bool = false

// WORM for the digests: a blob can be neither overwritten nor deleted until its retention period has passed, and the
// append blob only takes new blocks. ARM creates the policy unlocked (locking is an action, not a property): azd's
// postprovision hook (azure.yaml, infra/hooks/lock-ledger-digests.sh) locks it right after, once and for good.
resource ledgerDigestsRetention 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2024-01-01' = if (!ledgerDigestsPolicyLocked) {
  parent: ledgerDigests
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: ledgerDigestRetentionDays
    // Each digest (every 15 minutes) is appended to that month's append blob; existing blocks stay immutable.
    allowProtectedAppendWrites: true
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2024-01-01' = {
  parent: storage
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2024-01-01' = [
  for queueName in queueNames: {
    parent: queueService
    name: queueName
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2024-01-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2024-01-01' = [
  for tableName in tableNames: {
    parent: tableService
    name: tableName
  }
]

output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
