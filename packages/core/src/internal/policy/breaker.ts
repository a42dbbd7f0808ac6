/**
 * Circuit-breaker policy as pure functions over immutable state. Every transition bumps the
 * generation, so the outcome of a call admitted under an earlier state is ignored rather than
 * miscounted (a call that started while Closed and ends after a trip says nothing about the probe).
 *
 * @module
 */

/** How the breaker decides to trip: consecutive failures, or a failure rate over a window. */
export type Policy =
  | { readonly _tag: "Consecutive"; readonly threshold: number }
  | {
      readonly _tag: "FailureRate"
      /** Fraction of failures in the window that trips, in (0, 1]. */
      readonly threshold: number
      /** How many of the latest outcomes are looked at. */
      readonly windowSize: number
      /** No verdict until the window holds this many outcomes. */
      readonly minimumCalls: number
    }

export interface Settings {
  readonly policy: Policy
  readonly resetAfterMillis: number
  /** Each consecutive re-open multiplies the wait by this (1: constant), up to `maxResetAfterMillis`. */
  readonly backoffFactor: number
  readonly maxResetAfterMillis: number
  readonly halfOpenMaxCalls: number
}

/** Consecutive failures, or the latest outcomes (true: failure), newest last. */
export type Stats =
  | { readonly _tag: "Consecutive"; readonly failures: number }
  | {
      readonly _tag: "FailureRate"
      readonly outcomes: ReadonlyArray<boolean>
    }

export type State =
  | { readonly _tag: "Closed"; readonly generation: number; readonly stats: Stats }
  | { readonly _tag: "Open"; readonly generation: number; readonly reopenAt: number; readonly trips: number }
  | {
      readonly _tag: "HalfOpen"
      readonly generation: number
      readonly probes: number
      readonly successes: number
      readonly trips: number
    }
  /** Held open by an operator until `reset`. */
  | { readonly _tag: "Isolated"; readonly generation: number }

export const emptyStats = (policy: Policy): Stats =>
  policy._tag === "Consecutive" ? { _tag: "Consecutive", failures: 0 } : { _tag: "FailureRate", outcomes: [] }

export const closed = (settings: Settings, generation = 0): State => ({
  _tag: "Closed",
  generation,
  stats: emptyStats(settings.policy)
})

/** How long the `trips`-th consecutive opening lasts. */
export const resetAfter = (settings: Settings, trips: number): number =>
  Math.min(settings.maxResetAfterMillis, settings.resetAfterMillis * settings.backoffFactor ** Math.max(0, trips - 1))

export interface Ticket {
  readonly generation: number
  readonly probe: boolean
}

export type Admission =
  | { readonly _tag: "Admitted"; readonly ticket: Ticket; readonly halfOpened: boolean }
  | { readonly _tag: "Rejected"; readonly retryAfterMillis: number | undefined }

export const admit = (settings: Settings, state: State, now: number): readonly [Admission, State] => {
  switch (state._tag) {
    case "Closed":
      return [{ _tag: "Admitted", ticket: { generation: state.generation, probe: false }, halfOpened: false }, state]
    case "Isolated":
      return [{ _tag: "Rejected", retryAfterMillis: undefined }, state]
    case "Open": {
      if (now < state.reopenAt) return [{ _tag: "Rejected", retryAfterMillis: state.reopenAt - now }, state]
      const generation = state.generation + 1
      return [
        { _tag: "Admitted", ticket: { generation, probe: true }, halfOpened: true },
        { _tag: "HalfOpen", generation, probes: 1, successes: 0, trips: state.trips }
      ]
    }
    case "HalfOpen":
      return state.probes < settings.halfOpenMaxCalls
        ? [
            { _tag: "Admitted", ticket: { generation: state.generation, probe: true }, halfOpened: false },
            { ...state, probes: state.probes + 1 }
          ]
        : [{ _tag: "Rejected", retryAfterMillis: 0 }, state]
  }
}

export type Outcome = "success" | "failure" | "ignored"

export type Transition =
  | { readonly _tag: "Opened"; readonly reopenAt: number; readonly trips: number }
  | { readonly _tag: "Closed" }
  | undefined

const open = (settings: Settings, generation: number, trips: number, now: number) => {
  const reopenAt = now + resetAfter(settings, trips)
  return [
    { _tag: "Opened", reopenAt, trips } as const,
    { _tag: "Open", generation: generation + 1, reopenAt, trips } as const
  ] as const
}

const tally = (policy: Policy, stats: Stats, failed: boolean): readonly [trip: boolean, Stats] => {
  if (policy._tag === "Consecutive") {
    const failures = failed && stats._tag === "Consecutive" ? stats.failures + 1 : failed ? 1 : 0
    // A success after a success changes nothing: the same stats, so no allocation on the hot path.
    if (stats._tag === "Consecutive" && failures === stats.failures) return [false, stats]
    return [failures >= policy.threshold, { _tag: "Consecutive", failures }]
  }
  const outcomes = [...(stats._tag === "FailureRate" ? stats.outcomes : []), failed].slice(-policy.windowSize)
  const failures = outcomes.reduce((n, f) => (f ? n + 1 : n), 0)
  return [
    outcomes.length >= policy.minimumCalls && failures / outcomes.length >= policy.threshold,
    { _tag: "FailureRate", outcomes }
  ]
}

/** Records how an admitted call ended. */
export const record = (
  settings: Settings,
  state: State,
  ticket: Ticket,
  outcome: Outcome,
  now: number
): readonly [Transition, State] => {
  if (ticket.generation !== state.generation) return [undefined, state]
  switch (state._tag) {
    case "Closed": {
      if (outcome === "ignored") return [undefined, state]
      const [trip, stats] = tally(settings.policy, state.stats, outcome === "failure")
      return trip
        ? open(settings, state.generation, 1, now)
        : [undefined, stats === state.stats ? state : { ...state, stats }]
    }
    case "HalfOpen": {
      if (outcome === "failure") return open(settings, state.generation, state.trips + 1, now)
      if (outcome === "ignored") return [undefined, { ...state, probes: state.probes - 1 }]
      const successes = state.successes + 1
      return successes >= settings.halfOpenMaxCalls
        ? [{ _tag: "Closed" }, closed(settings, state.generation + 1)]
        : [undefined, { ...state, probes: state.probes - 1, successes }]
    }
    default:
      return [undefined, state]
  }
}

export const isolate = (state: State): State => ({ _tag: "Isolated", generation: state.generation + 1 })

export const reset = (settings: Settings, state: State): State => closed(settings, state.generation + 1)

/** The state as operators see it: Isolated is Open. */
export const publicState = (state: { readonly _tag: State["_tag"] }): "Closed" | "Open" | "HalfOpen" =>
  state._tag === "Isolated" ? "Open" : state._tag
