// The settings both storage accounts (data and deployment) share, so neither can drift from the other.

@export()
@description('Account properties: Entra ID only, TLS 1.2, HTTPS, no public blobs, no cross-tenant copies; public endpoint off when privateOnly.')
func hardenedAccountProperties(privateOnly bool) object => {
  // No account keys and no SAS signed with them: every caller, the Functions host included, uses Entra ID.
  allowSharedKeyAccess: false
  // Tools that default to keys (portal, az CLI) use Entra ID instead, since keys are refused anyway.
  defaultToOAuthAuthentication: true
  minimumTlsVersion: 'TLS1_2'
  supportsHttpsTrafficOnly: true
  // Nothing here is public: no container may be made anonymously readable.
  allowBlobPublicAccess: false
  // Ledger digests, personal-data-adjacent rows and the code stay in this tenant.
  allowCrossTenantReplication: false
  accessTier: 'Hot'
  // Without network isolation, Flex Consumption reaches storage over its public endpoint.
  publicNetworkAccess: privateOnly ? 'Disabled' : 'Enabled'
  networkAcls: {
    defaultAction: privateOnly ? 'Deny' : 'Allow'
    bypass: privateOnly ? 'None' : 'AzureServices'
  }
}
