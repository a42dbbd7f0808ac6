/**
 * The demo's tables as the terminal shows them: one per scenario, naive and guarded side by side,
 * its headline first and the guarded side's refusals after its results; then one over every
 * scenario. Every money figure says what it is: usage the API reported, or what fleetguard charged.
 *
 * @since 0.1.0
 */
import { serverErrors, withStatus } from "./measure.js"
import type { Call, Row, ScenarioResult, Side } from "./scenario.js"

/** @since 0.1.0 @category formatting */
export const usd = (n: number): string => `${n < 0 ? "−" : ""}$${Math.abs(n).toFixed(4)}`

/** @since 0.1.0 @category formatting */
export const count = (n: number): string => `${n < 0 ? "−" : ""}${Math.abs(n)}`

/** @since 0.1.0 @category formatting */
export const seconds = (millis: number): string => `${(millis / 1000).toFixed(2)} s`

/**
 * What the guarded side was configured with: the variables set, the rest at its defaults.
 *
 * @since 0.1.0
 * @category formatting
 */
export const configuration = (settings: Readonly<Record<string, string>>): string =>
  `Guarded: ${Object.entries(settings)
    .map(([name, value]) => `${name}=${value}`)
    .join(" ")}; every other option at its default (docs/configuration.md).`

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
 * What a side cost: what fleetguard charged, where it kept a ledger (never less than what the API
 * reported: a stream cut short is charged its upper bound), else the usage the API reported.
 *
 * @since 0.1.0
 * @category formatting
 */
export const costOf = (side: Side): number => side.charged?.usd ?? side.reportedUsd

/** What the API reported, priced: the usage of each answer it finished. @since 0.1.0 @category constants */
export const reportedLabel = "reported by the API"

/** What fleetguard's ledger charged, a stream cut short at its upper bound. @since 0.1.0 @category constants */
export const chargedLabel = "charged by fleetguard"

/**
 * What both sides spent, against the fleet limit, and how long they took.
 *
 * @since 0.1.0
 * @category rows
 */
export const cost = (naive: Side, guarded: Side, limitUsd: number): ReadonlyArray<Row> => [
  [`spent, ${reportedLabel} (usage of finished answers)`, usd(naive.reportedUsd), usd(guarded.reportedUsd)],
  [
    `spent, ${chargedLabel} (its ledger)`,
    naive.charged === undefined ? "— (no ledger)" : usd(naive.charged.usd),
    usd(costOf(guarded))
  ],
  [
    `  beyond the ${usd(limitUsd)} fleet limit`,
    usd(Math.max(0, costOf(naive) - limitUsd)),
    usd(Math.max(0, costOf(guarded) - limitUsd))
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

/**
 * One figure of a scenario's headline: what it is, its value, and what it was drawn from.
 *
 * @since 0.1.0
 * @category models
 */
export interface Headline {
  readonly label: string
  readonly value: string
  readonly detail: string
}

const compared = (r: ScenarioResult): ReadonlyArray<Headline> => [
  {
    label: "requests saved",
    value: count(r.naive.calls.length - r.guarded.calls.length),
    detail: `${r.naive.calls.length} naive → ${r.guarded.calls.length} guarded`
  },
  {
    label: "dollars saved",
    value: usd(costOf(r.naive) - costOf(r.guarded)),
    detail: `${usd(costOf(r.naive))} naive (${reportedLabel}) → ${usd(costOf(r.guarded))} guarded (${chargedLabel})`
  },
  {
    label: "agents that finished",
    value: `${r.naive.finished} → ${r.guarded.finished}`,
    detail: `naive → guarded, of ${r.agents} on each side`
  }
]

/**
 * A scenario's headline: requests and dollars saved (negative when the guarded side used more;
 * dollars as the naive side was billed against what fleetguard charged), the agents that finished
 * on each side, and the spend wasted where the scenario measures it.
 *
 * @since 0.1.0
 * @category formatting
 */
export const headlines = (r: ScenarioResult): ReadonlyArray<Headline> => [
  ...compared(r),
  ...(r.wasted === undefined
    ? []
    : [
        {
          label: "spend wasted",
          value: `${usd(r.wasted.naive)} → ${usd(r.wasted.guarded)}`,
          detail: "naive → guarded: what the agents that failed had spent"
        }
      ])
]

const grid = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length))) ?? []
  return rows
    .map((row) =>
      row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ")
    )
    .join("\n")
}

/**
 * One scenario's table, its headline first.
 *
 * @since 0.1.0
 * @category formatting
 */
export const scenario = (result: ScenarioResult): string =>
  [
    `${result.title} (--scenario ${result.name})`,
    result.setup,
    headlines(result)
      .map((h) => `${h.label}: ${h.value} (${h.detail})`)
      .join("\n"),
    "",
    grid([["", "naive", "guarded"], ...result.rows, ...refusedRows(result)])
  ].join("\n")

const refusedTotal = (result: ScenarioResult) => Object.values(result.refused).reduce((a, b) => a + b, 0)

/**
 * The table over every scenario: column groups (a label and how many columns it spans), the
 * columns, and a row per scenario.
 *
 * @since 0.1.0
 * @category models
 */
export interface Summary {
  readonly groups: ReadonlyArray<readonly [label: string, span: number]>
  readonly columns: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<string>>
}

/** @since 0.1.0 @category formatting */
export const summary = (results: ReadonlyArray<ScenarioResult>): Summary => ({
  groups: [
    ["", 1],
    ["requests", 2],
    ["429s", 2],
    ["API reported", 2],
    ["fleetguard charged", 1],
    ["refused", 1],
    ["agents finished", 2],
    ["wall time", 2]
  ],
  columns: [
    "scenario",
    "naive",
    "guarded",
    "naive",
    "guarded",
    "naive",
    "guarded",
    "guarded",
    "guarded",
    "naive",
    "guarded",
    "naive",
    "guarded"
  ],
  rows: results.map((r) => [
    r.name,
    count(r.naive.calls.length),
    count(r.guarded.calls.length),
    count(withStatus(r.naive.calls, 429)),
    count(withStatus(r.guarded.calls, 429)),
    usd(r.naive.reportedUsd),
    usd(r.guarded.reportedUsd),
    usd(costOf(r.guarded)),
    count(refusedTotal(r)),
    `${r.naive.finished}/${r.agents}`,
    `${r.guarded.finished}/${r.agents}`,
    seconds(r.naive.wallMillis),
    seconds(r.guarded.wallMillis)
  ])
})

/**
 * The table over every scenario run, as text.
 *
 * @since 0.1.0
 * @category formatting
 */
export const summaryText = (results: ReadonlyArray<ScenarioResult>): string => {
  const { groups, columns, rows } = summary(results)
  const groupRow = groups.flatMap(([label, span]) => [label, ...Array.from({ length: span - 1 }, () => "")])
  return ["All scenarios", "", grid([groupRow, columns, ...rows])].join("\n")
}
