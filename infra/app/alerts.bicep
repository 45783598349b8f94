// The alerts docs/operations.md lists, as log alerts on Application Insights, and the action group they notify.
// Each query returns one row per thing that is wrong (per provider, queue, reason, ...), so every rule fires when
// its query returns any row, split by the columns named in `dimensions`.

@description('Application Insights component the app sends its custom metrics, requests and traces to.')
param applicationInsightsName string

@description('Action group name.')
param actionGroupName string

@description('Email address the alerts go to; empty creates the action group without a receiver (add one later).')
param alertEmailAddress string

@description('Azure region of the alert rules (the action group is global).')
param location string

@description('Tags applied to every resource.')
param tags object

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'cafetalk'
    enabled: true
    emailReceivers: empty(alertEmailAddress)
      ? []
      : [
          {
            name: 'operations'
            emailAddress: alertEmailAddress
            useCommonAlertSchema: true
          }
        ]
  }
}

// Custom metrics arrive pre-aggregated per minute (valueSum, valueCount, valueMax): counters are summed, the lag
// histogram is averaged (a p95 cannot be recomputed from the aggregates).
var alerts = [
  {
    name: 'poison-messages'
    description: 'The Functions host moved a message to a *-poison queue after 5 failed attempts: a booking, erasure or suppression not done. Fix the cause, then replay-poison (docs/operations.md).'
    severity: 2
    frequency: 'PT5M'
    window: 'PT15M'
    dimensions: [
      'queue'
    ]
    query: '''
traces
| where message has "Moving message to queue" and message has "-poison"
| extend queue = extract(@"queue '([^']+)'", 1, message)
| summarize moved = count() by queue
'''
  }
  {
    name: 'events-rejected'
    description: 'More than 1 % of booking events were rejected in the last hour, by reason: a contract change or a broken producer at the booking system.'
    severity: 2
    frequency: 'PT15M'
    window: 'PT1H'
    dimensions: [
      'reason'
    ]
    query: '''
let events = toscalar(customMetrics | where name in ("cafetalk.events.processed", "cafetalk.events.rejected") | summarize sum(valueSum));
customMetrics
| where name == "cafetalk.events.rejected"
| extend reason = tostring(customDimensions.reason)
| summarize rejected = sum(valueSum) by reason
| where rejected > 0.01 * events
'''
  }
  {
    name: 'provider-throttled'
    description: 'A provider answered 429 more than once a minute for 10 minutes: its rate budget is exceeded (docs/scaling.md); for Zoom also the daily per-host limit.'
    severity: 3
    frequency: 'PT5M'
    window: 'PT10M'
    dimensions: [
      'provider'
    ]
    query: '''
customMetrics
| where name == "cafetalk.provider.throttled"
| extend provider = tostring(customDimensions.provider)
| summarize throttled = sum(valueSum) by provider
| where throttled > 10
'''
  }
  {
    name: 'provider-errors'
    description: 'More than 5 % of a provider\'s requests failed with 5xx or no response in 15 minutes: a provider outage.'
    severity: 2
    frequency: 'PT5M'
    window: 'PT15M'
    dimensions: [
      'provider'
    ]
    query: '''
customMetrics
| where name == "cafetalk.provider.requests"
| extend provider = tostring(customDimensions.provider), statusClass = tostring(customDimensions.status_class)
| summarize failed = sumif(valueSum, statusClass in ("5xx", "error")), requests = sum(valueSum) by provider
| where failed > 0.05 * requests
'''
  }
  {
    name: 'disclosure-refused'
    description: 'The disclosure gate refused a request to a provider: a code defect sending a field or route the policy does not allow. Page.'
    severity: 1
    frequency: 'PT5M'
    window: 'PT15M'
    dimensions: [
      'provider'
    ]
    query: '''
customMetrics
| where name == "cafetalk.provider.requests" and tostring(customDimensions.status_class) == "refused"
| extend provider = tostring(customDimensions.provider)
| summarize refused = sum(valueSum) by provider
'''
  }
  {
    name: 'lesson-at-risk'
    description: 'A lesson starting within StartsSoon__Window still has no matching meeting or calendar event after one more try (by provider and problem): act before it starts; the site was told.'
    severity: 1
    frequency: 'PT5M'
    window: 'PT15M'
    dimensions: [
      'provider'
      'problem'
    ]
    query: '''
customMetrics
| where name == "cafetalk.lesson.at_risk"
| extend provider = tostring(customDimensions.provider), problem = tostring(customDimensions.problem)
| summarize lessons = sum(valueSum) by provider, problem
| where lessons > 0
'''
  }
  {
    name: 'converge-lag'
    description: 'Bookings took more than 5 minutes on average to reach a provider over 15 minutes: lessons without a meeting or calendar event (throttling, a poison backlog or a dead secret).'
    severity: 2
    frequency: 'PT5M'
    window: 'PT15M'
    dimensions: [
      'provider'
    ]
    query: '''
customMetrics
| where name == "cafetalk.converge.lag"
| extend provider = tostring(customDimensions.provider)
| summarize averageSeconds = sum(valueSum) / sum(valueCount), worstSeconds = max(valueMax) by provider
| where averageSeconds > 300
'''
  }
  {
    name: 'ledger-append-gave-up'
    description: 'A ledger append lost the chain head race 60 times and gave up (the message is retried): persistent contention on a member\'s chain.'
    severity: 2
    frequency: 'PT5M'
    window: 'PT15M'
    dimensions: []
    query: '''
customMetrics
| where name == "cafetalk.ledger.appends" and tostring(customDimensions.outcome) == "gave_up"
| summarize gaveUp = sum(valueSum)
| where gaveUp > 0
'''
  }
  {
    name: 'ledger-head-conflicts'
    description: 'More than 5 % of ledger append transactions lost the head race in the last hour: bulk work on one member\'s chain; route that lecturer\'s messages to one worker (docs/scaling.md).'
    severity: 3
    frequency: 'PT15M'
    window: 'PT1H'
    dimensions: []
    query: '''
customMetrics
| where name == "cafetalk.ledger.appends"
| extend outcome = tostring(customDimensions.outcome)
| summarize conflicts = sumif(valueSum, outcome == "head_conflict"), appended = sumif(valueSum, outcome == "appended")
| where conflicts > 10 and conflicts > 0.05 * appended
'''
  }
  {
    name: 'erasure-blocked'
    description: 'An erasure could not remove what Google holds (the lecturer revoked our access, or Google failed): the receipt stays pending with the reason. Read the receipt; see docs/operations.md.'
    severity: 2
    frequency: 'PT15M'
    window: 'PT1H'
    dimensions: []
    query: '''
traces
| where severityLevel >= 3 and message startswith "Erasure blocked at Google"
| summarize blocked = count()
'''
  }
  {
    name: 'ledger-digest-failed'
    description: 'The ledger digest job (every 15 minutes) failed or refused: it verifies the ledger first and writes no signed digest over a broken chain, so this can mean tampering. Run ledger verify (docs/operations.md).'
    severity: 1
    frequency: 'PT15M'
    window: 'PT15M'
    dimensions: [
      'job'
    ]
    query: '''
requests
| where name == "LedgerDigestFunction" and success == false
| summarize failures = count() by job = name
'''
  }
  {
    name: 'ledger-digest-absent'
    description: 'No ledger digest run succeeded in the last 45 minutes (it runs every 15): the job is stopped (for example its timer lease taken) and rows written since are unprotected; ledger verify reports DigestStale. See docs/operations.md.'
    severity: 1
    frequency: 'PT15M'
    window: 'PT45M'
    dimensions: []
    // A count over no rows is one row of 0: kept only when no run succeeded.
    query: '''
requests
| where name == "LedgerDigestFunction" and success == true
| summarize succeeded = count()
| where succeeded == 0
'''
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for alert in alerts: {
    name: 'cafetalk-${alert.name}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: 'cafetalk-${alert.name}'
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [
        applicationInsights.id
      ]
      evaluationFrequency: alert.frequency
      windowSize: alert.window
      criteria: {
        allOf: [
          {
            query: alert.query
            timeAggregation: 'Count'
            dimensions: [
              for dimension in alert.dimensions: {
                name: dimension
                operator: 'Include'
                values: [
                  '*'
                ]
              }
            ]
            operator: 'GreaterThan'
            threshold: 0
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: [
          actionGroup.id
        ]
      }
    }
  }
]
