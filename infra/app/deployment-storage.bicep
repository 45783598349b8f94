// The deployment storage account: only the Flex Consumption package. It is apart from the data account
// (storage.bicep) so that a data-plane role there (the app's, or an insider's) cannot replace the code that runs as
// the digest signer (docs/privacy.md, ledger review F8). Entra ID access only.

import { deploymentPackagesContainerName } from 'storage-names.bicep'
import { hardenedAccountProperties } from 'storage-account.bicep'

@description('Storage account name (3-24 lowercase letters and digits, globally unique).')
param name string

@description('Azure region.')
param location string

@description('Tags applied to the account.')
param tags object

@description('True: reachable only through its private endpoint (network.bicep); false: over its public endpoint.')
param privateOnly bool

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
    // A package overwritten by mistake (or on purpose) can be recovered and compared for a week.
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

resource deploymentPackages 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = {
  parent: blobService
  name: deploymentPackagesContainerName
  properties: {
    publicAccess: 'None'
  }
}

output name string = storage.name
output deploymentContainerUrl string = '${storage.properties.primaryEndpoints.blob}${deploymentPackages.name}'
