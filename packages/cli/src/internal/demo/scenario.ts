/**
 * What a scenario of the demo measures: the same agents run naive and guarded, each side with the
 * server's record of its requests and the charges its calls reported.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 @category models */
export type ScenarioName = "storm" | "budget" | "fanout" | "trip" | "all"

/** The scenarios, in the order the demo runs them. @since 0.1.0 @category constants */
export const names: ReadonlyArray<ScenarioName> = ["storm", "budget", "fanout", "trip", "all"]

/**
 * One POST /v1/messages as the server recorded it, times in millis since the side started.
 *
 * @since 0.1.0
 * @category models
 */
export interface Call {
  readonly at: number
  /** null while it never ended (a hang). */
  readonly endedAt: number | null
  /** null when no headers were sent. */
  readonly status: number | null
  readonly outcome: "in-flight" | "answered" | "client-closed" | "dropped"
  readonly stream: boolean
}

/**
 * One call's cost, in millis since the side started: priced from the usage the API reported, or
 * what fleetguard's ledger charged.
 *
 * @since 0.1.0
 * @category models
 */
export interface Charge {
  readonly at: number
  readonly usd: number
}

/**
 * When a 429 the client had seen told it to wait: from the moment it knew, until the wait it was
 * given ran out, in millis since its side started.
 *
 * @since 0.1.0
 * @category models
 */
export interface Wait {
  readonly from: number
  readonly until: number
}

/**
 * One side's record: what the server saw, what the API reported and fleetguard charged, when the
 * client was told to wait, how many agents finished, how long it took.
 *
 * @since 0.1.0
 * @category models
 */
export interface Side {
  readonly calls: ReadonlyArray<Call>
  /** The usage the API reported for each answer it finished, priced. */
  readonly reported: ReadonlyArray<Charge>
  readonly reportedUsd: number
  /** What fleetguard's ledger charged, every settlement; absent on the naive side, which has no ledger. */
  readonly charged?: { readonly charges: ReadonlyArray<Charge>; readonly usd: number } | undefined
  readonly waits: ReadonlyArray<Wait>
  /** When the API answered this side 429, in millis since the side started (absent: it never did). */
  readonly rateLimited?: { readonly from: number; readonly until: number } | undefined
  /** When the client sent each request (each attempt), as it noted it. */
  readonly sent: ReadonlyArray<number>
  /** Agents that ran to their end without failing. */
  readonly finished: number
  readonly wallMillis: number
}

/**
 * A row of a scenario's table: a figure, naive then guarded.
 *
 * @since 0.1.0
 * @category models
 */
export type Row = readonly [label: string, naive: string, guarded: string]

/**
 * One long call of the trip scenario: when it started and ended, in millis relative to the trip.
 *
 * @since 0.1.0
 * @category models
 */
export interface Lane {
  readonly start: number
  readonly end: number
  readonly interrupted: boolean
}

/**
 * A scenario's measured result.
 *
 * @since 0.1.0
 * @category models
 */
export interface ScenarioResult {
  readonly name: ScenarioName
  readonly title: string
  /** What the agents and the server do, in one sentence. */
  readonly setup: string
  readonly rows: ReadonlyArray<Row>
  /** The guarded side's refusals by reason: work it did not do. */
  readonly refused: Readonly<Record<string, number>>
  /** Times the guarded side's gate closed (a pause, not an extension of one). */
  readonly pauses: number
  /** The fleet limit the spend is drawn against. */
  readonly limitUsd: number
  /** The agents each side set out to run. */
  readonly agents: number
  /** What the agents that failed had spent, where the scenario measures it (naive: reported; guarded: charged). */
  readonly wasted?: { readonly naive: number; readonly guarded: number } | undefined
  readonly naive: Side
  readonly guarded: Side
  /** The long calls of a trip, each side's relative to its own trip. */
  readonly lanes?: { readonly naive: ReadonlyArray<Lane>; readonly guarded: ReadonlyArray<Lane> } | undefined
}
