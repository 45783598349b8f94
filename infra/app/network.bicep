// Network isolation (vnetEnabled): a virtual network the function app joins (Flex Consumption VNet integration),
// private endpoints for the data storage account (blob, queue, table), the deployment account (blob) and Key Vault with their private DNS zones, as the azd Functions
// templates do. With it, storage and the vault turn their public endpoints off (storage.bicep, keyvault.bicep).

@description('Virtual network name.')
param name string

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Storage account the private endpoints lead to.')
param storageAccountName string

@description('Deployment storage account (the package) the blob private endpoint leads to.')
param deploymentStorageAccountName string

@description('Key Vault the private endpoint leads to.')
param keyVaultName string

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource deploymentStorage 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: deploymentStorageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: keyVaultName
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.0.0.0/16'
      ]
    }
    subnets: [
      {
        // Flex Consumption integrates through a subnet delegated to Microsoft.App/environments.
        name: 'app'
        properties: {
          addressPrefix: '10.0.1.0/24'
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: '10.0.2.0/24'
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }

  resource appSubnet 'subnets' existing = {
    name: 'app'
  }

  resource endpointSubnet 'subnets' existing = {
    name: 'private-endpoints'
  }
}

// One privatelink zone per service; both storage accounts' blob endpoints resolve through the same blob zone.
var zoneNames = [
  'privatelink.blob.${environment().suffixes.storage}'
  'privatelink.queue.${environment().suffixes.storage}'
  'privatelink.table.${environment().suffixes.storage}'
  'privatelink.vaultcore.azure.net'
]

// One private endpoint per storage service of each account (target) and one for the vault; zone indexes zoneNames.
var endpoints = [
  {
    name: 'blob'
    target: 'data'
    groupId: 'blob'
    zone: 0
  }
  {
    name: 'queue'
    target: 'data'
    groupId: 'queue'
    zone: 1
  }
  {
    name: 'table'
    target: 'data'
    groupId: 'table'
    zone: 2
  }
  {
    name: 'deployment-blob'
    target: 'deployment'
    groupId: 'blob'
    zone: 0
  }
  {
    name: 'vault'
    target: 'vault'
    groupId: 'vault'
    zone: 3
  }
]

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for zoneName in zoneNames: {
    name: zoneName
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (zoneName, i) in zoneNames: {
    parent: zones[i]
    name: '${name}-link'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for endpoint in endpoints: {
    name: 'pe-${endpoint.name}-${name}'
    location: location
    tags: tags
    properties: {
      subnet: {
        id: vnet::endpointSubnet.id
      }
      privateLinkServiceConnections: [
        {
          name: endpoint.name
          properties: {
            privateLinkServiceId: endpoint.target == 'vault' ? vault.id : (endpoint.target == 'deployment' ? deploymentStorage.id : storage.id)
            groupIds: [
              endpoint.groupId
            ]
          }
        }
      ]
    }
  }
]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (endpoint, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: endpoint.name
          properties: {
            privateDnsZoneId: zones[endpoint.zone].id
          }
        }
      ]
    }
  }
]

output appSubnetId string = vnet::appSubnet.id
