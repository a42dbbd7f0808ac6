/**
 * Alerts as pure functions: which events raise an alert — once per incident, so one incident never
 * pages twice — and what Slack and PagerDuty are sent for it.
 */
import type { BudgetSnapshot } from "../../Budget.js"
import type {
  AlertKind,
  BreakerClosed,
  BreakerOpened,
  BudgetExhausted,
  BudgetThresholdCrossed,
  GuardEvent,
  RateLimitPause
} from "../../Events.js"

export interface Alert {
  readonly kind: AlertKind
  /** Names the incident within the run; PagerDuty's dedup key is the run id and this. */
  readonly incident: string
  /** A resolve closes the incident (PagerDuty only). */
  readonly action: "trigger" | "resolve"
  readonly severity: "critical" | "error" | "warning"
  readonly at: number
  /** What happened, in one sentence. */
  readonly summary: string
  readonly event: GuardEvent
}

export interface State {
  readonly thresholdCrossed: boolean
  /** A call was refused at the fleet limit before spend reached it (calls in flight held the rest). */
  readonly full: boolean
  /** Spend itself reached the fleet limit. */
  readonly exhausted: boolean
  readonly breakerIncidents: number
  readonly breakerOpen: boolean
  readonly pauseIncidents: number
  /** When the gate closed by the latest capped pause reopens: a capped pause before then is the same incident. */
  readonly cappedUntil: number
}

export const initial: State = {
  thresholdCrossed: false,
  full: false,
  exhausted: false,
  breakerIncidents: 0,
  breakerOpen: false,
  pauseIncidents: 0,
  cappedUntil: 0
}

const percent = (fraction: number) => `${Math.round(fraction * 100)}%`
const usd = (n: number) => `$${n.toFixed(n >= 1 ? 2 : 4)}`
const time = (at: number) => new Date(at).toISOString()
const seconds = (millis: number) => `${Math.round(millis / 100) / 10} s`
const spent = (usdSpent: number) => (usdSpent === 0 ? "nothing spent yet" : `${usd(usdSpent)} spent`)

const alert = (
  event: GuardEvent,
  kind: AlertKind,
  incident: string,
  severity: Alert["severity"],
  summary: string,
  action: Alert["action"] = "trigger"
): Alert => ({ kind, incident, action, severity, at: event.at, summary, event })

/** The alert an event raises, if any, and the state after it. */
type Decision = readonly [Alert | undefined, State]

/**
 * A call refused at the fleet limit. Exhausted (critical) only when spend itself has reached the
 * limit; before that the budget is full for now — held by calls in flight, or too little left for
 * that call — a warning that says which.
 */
const budgetRefused = (state: State, event: BudgetExhausted): Decision => {
  const { agentId, requestedUsd, limitUsd, spentUsd, reservedUsd } = event
  if (spentUsd >= limitUsd)
    return state.exhausted
      ? [undefined, state]
      : [
          alert(
            event,
            "BudgetExhausted",
            "budget-exhausted",
            "critical",
            `Fleet budget exhausted: ${usd(spentUsd)} spent of the ${usd(limitUsd)} limit; every call is refused (the first: agent ${agentId}, asking ${usd(requestedUsd)})`
          ),
          { ...state, full: true, exhausted: true }
        ]
  if (state.full) return [undefined, state]
  const summary =
    reservedUsd > 0
      ? `Fleet budget fully reserved by calls in flight: ${spent(spentUsd)}, ${usd(reservedUsd)} held, of the ${usd(limitUsd)} limit; a call of agent ${agentId} asking ${usd(requestedUsd)} was refused (what is held comes back as those calls settle)`
      : `A call of agent ${agentId} asking ${usd(requestedUsd)} was refused: only ${usd(limitUsd - spentUsd)} is left of the ${usd(limitUsd)} fleet budget (${spent(spentUsd)}, nothing held)`
  return [alert(event, "BudgetExhausted", "budget-full", "warning", summary), { ...state, full: true }]
}

const thresholdCrossed = (state: State, event: BudgetThresholdCrossed): Decision =>
  state.thresholdCrossed
    ? [undefined, state]
    : [
        alert(
          event,
          "BudgetThresholdCrossed",
          "budget-threshold",
          "warning",
          `Fleet spend and reservations reached ${percent(event.alertAt)} of the ${usd(event.limitUsd)} limit: ${spent(event.spentUsd)}, ${usd(event.reservedUsd)} held by calls in flight`
        ),
        { ...state, thresholdCrossed: true }
      ]

const breakerOpened = (state: State, event: BreakerOpened): Decision => {
  if (state.breakerOpen) return [undefined, state]
  const incidents = state.breakerIncidents + 1
  const reopens = event.reopenAt === undefined ? "until an operator resets it" : `until ${time(event.reopenAt)}`
  return [
    alert(
      event,
      "BreakerOpened",
      `breaker-${incidents}`,
      "error",
      `Circuit breaker opened ${reopens}: ${event.interrupted} call(s) and agent(s) in flight were interrupted (${event.interruptedAgents} agent(s))`
    ),
    { ...state, breakerOpen: true, breakerIncidents: incidents }
  ]
}

const breakerClosed = (state: State, event: BreakerClosed): Decision =>
  state.breakerOpen
    ? [
        alert(
          event,
          "BreakerClosed",
          `breaker-${state.breakerIncidents}`,
          "error",
          "Circuit breaker closed: calls flow again",
          "resolve"
        ),
        { ...state, breakerOpen: false }
      ]
    : [undefined, state]

/** A pause capped by maxPause; one before the gate it closed reopens is the same incident. */
const pauseCapped = (state: State, event: RateLimitPause): Decision => {
  if (!event.capped) return [undefined, state]
  if (event.at < state.cappedUntil) return [undefined, { ...state, cappedUntil: event.pausedUntil }]
  const incidents = state.pauseIncidents + 1
  const asked = event.requestedMillis === undefined ? "forever" : seconds(event.requestedMillis)
  return [
    alert(
      event,
      "RateLimitPause",
      `rate-limit-${incidents}`,
      "warning",
      `Rate limited: the provider asked every call to wait ${asked}, longer than maxPause; the gate is closed until ${time(event.pausedUntil)} and that call failed`
    ),
    { ...state, pauseIncidents: incidents, cappedUntil: event.pausedUntil }
  ]
}

/** The alert `event` raises, if any, and the state after it. */
export const decide = (state: State, event: GuardEvent): Decision => {
  switch (event._tag) {
    case "BudgetThresholdCrossed":
      return thresholdCrossed(state, event)
    case "BudgetExhausted":
      return budgetRefused(state, event)
    case "BreakerOpened":
      return breakerOpened(state, event)
    case "BreakerClosed":
      return breakerClosed(state, event)
    case "RateLimitPause":
      return pauseCapped(state, event)
    case "RateLimitResumed":
      return [undefined, { ...state, cappedUntil: 0 }]
    default:
      return [undefined, state]
  }
}

/** Spend as an alert shows it: the fleet against its limit, and the top agents by spend. */
export interface Spend {
  readonly limitUsd: number
  readonly spentUsd: number
  readonly reservedUsd: number
  readonly topAgents: ReadonlyArray<{ readonly agentId: string; readonly spentUsd: number }>
}

/** How many agents an alert names. */
export const topAgentCount = 3

export const spendOf = (snapshot: BudgetSnapshot): Spend => ({
  limitUsd: snapshot.limitUsd,
  spentUsd: snapshot.spentUsd,
  reservedUsd: snapshot.reservedUsd,
  topAgents: Object.entries(snapshot.agents)
    .map(([agentId, account]) => ({ agentId, spentUsd: account.spentUsd }))
    .sort((a, b) => b.spentUsd - a.spentUsd)
    .slice(0, topAgentCount)
})

/** Where the alert comes from. */
export interface Origin {
  readonly runId: string
  readonly pid: number
}

// Slack reads &, < and > as markup.
const escapeMarkup = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

const spendLines = (spend: Spend | undefined): ReadonlyArray<string> =>
  spend === undefined
    ? []
    : [
        `Spend: ${usd(spend.spentUsd)} spent of ${usd(spend.limitUsd)} (${percent(spend.spentUsd / spend.limitUsd)}), ${usd(spend.reservedUsd)} held by calls in flight`,
        spend.topAgents.length === 0
          ? "Top agents: none has spent yet"
          : `Top agents: ${spend.topAgents.map((a) => `${a.agentId} ${usd(a.spentUsd)}`).join(", ")}`
      ]

/** A Slack incoming-webhook message. */
export const slackMessage = (alert: Alert, spend: Spend | undefined, origin: Origin): { readonly text: string } => ({
  text: escapeMarkup(
    [
      `*fleetguard*: ${alert.summary}`,
      ...spendLines(spend),
      `Run ${origin.runId}, pid ${origin.pid}, at ${time(alert.at)}`
    ].join("\n")
  )
})

export const dedupKey = (origin: Origin, alert: Alert) => `fleetguard/${origin.runId}/${alert.incident}`

const components: Record<AlertKind, string> = {
  BudgetThresholdCrossed: "budget",
  BudgetExhausted: "budget",
  BreakerOpened: "circuit-breaker",
  BreakerClosed: "circuit-breaker",
  RateLimitPause: "rate-limit-gate"
}

/** A PagerDuty Events API v2 event, without its routing key (added at the last moment, by the sender). */
export const pagerDutyEvent = (alert: Alert, spend: Spend | undefined, origin: Origin) =>
  alert.action === "resolve"
    ? { event_action: "resolve" as const, dedup_key: dedupKey(origin, alert) }
    : {
        event_action: "trigger" as const,
        dedup_key: dedupKey(origin, alert),
        payload: {
          // PagerDuty truncates a summary at 1024 characters.
          summary: alert.summary.slice(0, 1024),
          source: `fleetguard run ${origin.runId}`,
          severity: alert.severity,
          timestamp: time(alert.at),
          component: components[alert.kind],
          group: origin.runId,
          class: alert.kind,
          custom_details: { pid: origin.pid, event: alert.event, ...(spend === undefined ? {} : { spend }) }
        }
      }
