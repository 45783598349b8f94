// The queues, tables and blob containers the app uses: one list that storage.bicep creates and roles.bicep
// grants on, and that BicepTemplateTests compares with Cafetalk.Integrations.Storage's names.

@export()
@description('Storage queues: the booking-system contract, our own stages, and the poison queue the host fills for each triggered queue (declared, because the app may not create queues).')
var queueNames = [
  'booking-events'
  'booking-events-poison'
  'newsletter-events'
  'newsletter-events-poison'
  'erasure-requests'
  'erasure-requests-poison'
  'mail-suppressions'
  'mail-suppressions-poison'
  'zoom-converge'
  'zoom-converge-poison'
  'zoom-events'
  'zoom-events-poison'
  'zoom-meeting-changes'
  'zoom-meeting-changes-poison'
  'recording-converge'
  'recording-converge-poison'
  'calendar-converge'
  'calendar-converge-poison'
  'calendar-changes'
  'calendar-changes-poison'
  'site-notifications'
]

@export()
@description('Storage tables: desired state, pseudonyms, the disclosure ledger, provider bookkeeping and shared rate budgets.')
var tableNames = [
  'Bookings'
  'Subjects'
  'DisclosureLedger'
  'ZoomHosts'
  'ZoomHostQuota'
  'ZoomHostPool'
  'ZoomHostReservations'
  'ZoomWebhookEvents'
  'CalendarConnections'
  'CalendarWatchChannels'
  'NewsletterSubscriptions'
  'UnsubscribeLinks'
  'ErasureReceipts'
  'VimeoFolders'
  'CalendarConnectStates'
  'CalendarConnectTickets'
  'FormTokens'
  'ProviderRateBudget'
]

@export()
@description('Blob container for poisoned messages too large to travel inline.')
var poisonPayloadsContainerName = 'poison-payloads'

@export()
@description('Blob container for the daily ledger digests: append-only, under a time-based retention policy.')
var ledgerDigestsContainerName = 'ledger-digests'

@export()
@description('Blob containers the Functions host keeps its locks, timer state and keys in.')
var hostContainerNames = [
  'azure-webjobs-hosts'
  'azure-webjobs-secrets'
]

@export()
@description('Blob container Flex Consumption deploys the app package from.')
var deploymentPackagesContainerName = 'deployment-packages'
