/**
 * The demo's tables as the terminal shows them: one per scenario, naive and guarded side by side,
 * the guarded side's refusals next to its results; then one over every scenario.
 *
 * @since 0.1.0
 */
import { serverErrors, withStatus } from "./measure.js"
import type { Call, Row, ScenarioResult, Side } from "./scenario.js"

/** @since 0.1.0 @category formatting */
export const usd = (n: number): string => `$${n.toFixed(4)}`

/** @since 0.1.0 @category formatting */
export const count = (n: number): string => String(n)

/** @since 0.1.0 @category formatting */
export const seconds = (millis: number): string => `${(millis / 1000).toFixed(2)} s`

/**
 * How many requests started after a side's trip, or "no trip".
 *
 * @since 0.1.0
 * @category formatting
 */
export const startedAfter = (calls: ReadonlyArray<Call>, trip: number): string =>
  Number.isFinite(trip) ? count(calls.filter((c) => c.at > trip).length) : "no trip"

/**
 * The server's view of both sides: requests and how they were answered.
 *
 * @since 0.1.0
 * @category rows
 */
export const traffic = (naive: Side, guarded: Side): ReadonlyArray<Row> => [
  ["HTTP requests", count(naive.calls.length), count(guarded.calls.length)],
  ["  answered 200", count(withStatus(naive.calls, 200)), count(withStatus(guarded.calls, 200))],
  ["  answered 429", count(withStatus(naive.calls, 429)), count(withStatus(guarded.calls, 429))],
  ["  answered 5xx", count(serverErrors(naive.calls)), count(serverErrors(guarded.calls))]
]

/**
 * What both sides spent, against the fleet limit, and how long they took.
 *
 * @since 0.1.0
 * @category rows
 */
export const cost = (naive: Side, guarded: Side, limitUsd: number): ReadonlyArray<Row> => [
  ["spent (reported usage)", usd(naive.spentUsd), usd(guarded.spentUsd)],
  [
    `spent beyond the ${usd(limitUsd)} fleet limit`,
    usd(Math.max(0, naive.spentUsd - limitUsd)),
    usd(Math.max(0, guarded.spentUsd - limitUsd))
  ],
  ["wall time", seconds(naive.wallMillis), seconds(guarded.wallMillis)]
]

/**
 * The guarded side's pauses and refusals by reason: work it did not do, shown next to what it did.
 *
 * @since 0.1.0
 * @category rows
 */
export const refusedRows = (result: ScenarioResult): ReadonlyArray<Row> => {
  const reasons = Object.entries(result.refused)
  return [
    ["guarded: the gate closed (pauses)", "—", count(result.pauses)],
    ...(reasons.length === 0
      ? [["guarded: refused", "—", "nothing"] as const]
      : reasons.map(([reason, n]) => [`guarded: refused, ${reason}`, "—", count(n)] as const))
  ]
}

const grid = (rows: ReadonlyArray<readonly string[]>): string => {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length))) ?? []
  return rows
    .map((row) =>
      row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ")
    )
    .join("\n")
}

/**
 * One scenario's table.
 *
 * @since 0.1.0
 * @category formatting
 */
export const scenario = (result: ScenarioResult): string =>
  [
    `${result.title} (--scenario ${result.name})`,
    result.setup,
    "",
    grid([["", "naive", "guarded"], ...result.rows, ...refusedRows(result)])
  ].join("\n")

const refusedTotal = (result: ScenarioResult) => Object.values(result.refused).reduce((a, b) => a + b, 0)

/**
 * The table over every scenario run.
 *
 * @since 0.1.0
 * @category formatting
 */
export const summary = (results: ReadonlyArray<ScenarioResult>): string =>
  [
    "All scenarios",
    "",
    grid([
      ["scenario", "requests", "", "429s", "", "spent", "", "refused", "wall time", ""],
      ["", "naive", "guarded", "naive", "guarded", "naive", "guarded", "guarded", "naive", "guarded"],
      ...results.map((r) => [
        r.name,
        count(r.naive.calls.length),
        count(r.guarded.calls.length),
        count(withStatus(r.naive.calls, 429)),
        count(withStatus(r.guarded.calls, 429)),
        usd(r.naive.spentUsd),
        usd(r.guarded.spentUsd),
        count(refusedTotal(r)),
        seconds(r.naive.wallMillis),
        seconds(r.guarded.wallMillis)
      ])
    ])
  ].join("\n")
