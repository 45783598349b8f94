// The vault for provider credentials and the app's own keys. Secrets are not declared here: operators set
// them with `az keyvault secret set` (docs/operations.md), so a redeploy never overwrites a value with a blank.

@description('Key Vault name (3-24 characters, globally unique).')
param name string

@description('Azure region.')
param location string

@description('Tags applied to the vault.')
param tags object

@description('True: reachable only through its private endpoint (network.bicep); false: over its public endpoint.')
param privateOnly bool

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    // Access is Azure RBAC only (roles.bicep); no access policies to drift out of review.
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // A deleted secret or vault cannot be purged before its retention ends, even by an owner.
    enablePurgeProtection: true
    // Without network isolation, Flex Consumption reaches the vault over its public endpoint.
    publicNetworkAccess: privateOnly ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: privateOnly ? 'Deny' : 'Allow'
      bypass: privateOnly ? 'None' : 'AzureServices'
    }
  }
}

@description('Name of the key that signs ledger digest lines.')
param ledgerDigestKeyName string

// Signs each ledger digest line (ES256). Created here, never exportable: the app may sign with it and read its public
// half (Key Vault Crypto User on this key only, roles.bicep), nobody can take the private half out of the vault.
resource ledgerDigestKey 'Microsoft.KeyVault/vaults/keys@2024-11-01' = {
  parent: vault
  name: ledgerDigestKeyName
  tags: tags
  properties: {
    kty: 'EC'
    curveName: 'P-256'
    keyOps: [
      'sign'
      'verify'
    ]
    attributes: {
      enabled: true
      exportable: false
    }
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
@description('Versionless URI of the ledger digest key: the app signs with its current version and checks any version of it.')
output ledgerDigestKeyUri string = ledgerDigestKey.properties.keyUri
