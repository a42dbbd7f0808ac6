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
 * One call charged, from the usage the API reported, in millis since the side started.
 *
 * @since 0.1.0
 * @category models
 */
export interface Charge {
  readonly at: number
  readonly usd: number
}

/**
 * One side's record: what the server saw, what was charged, how long it took.
 *
 * @since 0.1.0
 * @category models
 */
export interface Side {
  readonly calls: ReadonlyArray<Call>
  readonly charges: ReadonlyArray<Charge>
  readonly spentUsd: number
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
  /** The fleet limit the spend is drawn against, when the scenario has one. */
  readonly limitUsd: number
  readonly naive: Side
  readonly guarded: Side
  /** The long calls of a trip, each side's relative to its own trip. */
  readonly lanes?: { readonly naive: ReadonlyArray<Lane>; readonly guarded: ReadonlyArray<Lane> } | undefined
}
