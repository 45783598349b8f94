// Diagnostic settings: what responders read (docs/operations.md). Each storage service's reads, writes and deletes
// (the deployment account's package writes included), the vault's audit events and the function app's logs go to the
// Log Analytics workspace (30 days there).

@description('Log Analytics workspace name.')
param logAnalyticsName string

@description('Storage account name.')
param storageAccountName string

@description('Deployment storage account name (the package).')
param deploymentStorageAccountName string

@description('Key Vault name.')
param keyVaultName string

@description('Function app name.')
param functionAppName string

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsName
}

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'
  }

  resource queueService 'queueServices' existing = {
    name: 'default'
  }

  resource tableService 'tableServices' existing = {
    name: 'default'
  }
}

resource deploymentStorage 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: deploymentStorageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'
  }
}

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: keyVaultName
}

resource functionApp 'Microsoft.Web/sites@2024-11-01' existing = {
  name: functionAppName
}

// Every log category the service has (for storage: StorageRead, StorageWrite, StorageDelete) and its metrics.
var serviceLogs = [
  {
    categoryGroup: 'allLogs'
    enabled: true
  }
]

var transactionMetrics = [
  {
    category: 'Transaction'
    enabled: true
  }
]

// The account itself emits metrics only; its logs come from each service below.
resource storageDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage
  properties: {
    workspaceId: workspace.id
    metrics: transactionMetrics
  }
}

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage::blobService
  properties: {
    workspaceId: workspace.id
    logs: serviceLogs
    metrics: transactionMetrics
  }
}

resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage::queueService
  properties: {
    workspaceId: workspace.id
    logs: serviceLogs
    metrics: transactionMetrics
  }
}

resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage::tableService
  properties: {
    workspaceId: workspace.id
    logs: serviceLogs
    metrics: transactionMetrics
  }
}

// Who wrote the package, and when: a replacement outside a deployment shows here.
resource deploymentStorageDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: deploymentStorage
  properties: {
    workspaceId: workspace.id
    metrics: transactionMetrics
  }
}

resource deploymentBlobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: deploymentStorage::blobService
  properties: {
    workspaceId: workspace.id
    logs: serviceLogs
    metrics: transactionMetrics
  }
}

// AuditEvent: who read which secret, when.
resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: workspace.id
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
  }
}

// FunctionAppLogs: the host's and the worker's log lines.
resource appDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: functionApp
  properties: {
    workspaceId: workspace.id
    logs: [
      {
        category: 'FunctionAppLogs'
        enabled: true
      }
    ]
  }
}
