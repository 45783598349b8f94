// A user-assigned identity: the one the function app runs as (storage, Key Vault references, telemetry), or the one
// Flex Consumption reads and writes the deployment package with (main.bicep creates both).

@description('Name of the user-assigned managed identity.')
param name string

@description('Azure region.')
param location string

@description('Tags applied to the identity.')
param tags object

resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = appIdentity.id
output name string = appIdentity.name
output clientId string = appIdentity.properties.clientId
