/**
 * The demo's report as one self-contained HTML page: per scenario its table, its calls over time
 * (naive against guarded), its spend against the fleet limit and, for the trip, the long calls
 * ending. Inline SVG and CSS only: it opens offline.
 *
 * @since 0.1.0
 */
import type { Call, Charge, Lane, Row, ScenarioResult } from "./scenario.js"
import * as Svg from "./svg.js"
import { refusedRows, usd } from "./table.js"

const naiveColor = "#d35400"
const guardedColor = "#2471a3"

const seconds = (millis: number) => millis / 1000

/** A count rising by one at each instant, from (0, 0). */
const cumulative = (instants: ReadonlyArray<number>): Array<readonly [number, number]> => [
  [0, 0],
  ...[...instants].sort((a, b) => a - b).map((at, i) => [seconds(at), i + 1] as const)
]

const spendLine = (charges: ReadonlyArray<Charge>): Array<readonly [number, number]> => {
  const points: Array<readonly [number, number]> = [[0, 0]]
  let total = 0
  for (const c of [...charges].sort((a, b) => a.at - b.at)) {
    total += c.usd
    points.push([seconds(c.at), total])
  }
  return points
}

const rateLimited = (calls: ReadonlyArray<Call>) => calls.filter((c) => c.status === 429).map((c) => c.at)

/** Both sides' whole run: the charts of a scenario share their time axis. */
const duration = (r: ScenarioResult) => seconds(Math.max(r.naive.wallMillis, r.guarded.wallMillis))

const callsChart = (r: ScenarioResult) =>
  Svg.lines({
    xMax: duration(r),
    name: `${r.name}-calls`,
    title: `${r.title}: calls over time`,
    xLabel: "seconds since the side started",
    yLabel: "requests so far",
    series: [
      { label: "naive requests", color: naiveColor, points: cumulative(r.naive.calls.map((c) => c.at)) },
      { label: "guarded requests", color: guardedColor, points: cumulative(r.guarded.calls.map((c) => c.at)) },
      { label: "naive 429s", color: naiveColor, dashed: true, points: cumulative(rateLimited(r.naive.calls)) },
      { label: "guarded 429s", color: guardedColor, dashed: true, points: cumulative(rateLimited(r.guarded.calls)) }
    ]
  })

const spendChart = (r: ScenarioResult) =>
  Svg.lines({
    xMax: duration(r),
    name: `${r.name}-spend`,
    title: `${r.title}: spend against the limit`,
    xLabel: "seconds since the side started",
    yLabel: "USD spent",
    series: [
      { label: "naive spend", color: naiveColor, points: spendLine(r.naive.charges) },
      { label: "guarded spend", color: guardedColor, points: spendLine(r.guarded.charges) }
    ],
    marks: [{ at: r.limitUsd, label: `fleet limit ${usd(r.limitUsd)}` }],
    format: (n) => `$${n.toFixed(n < 1 ? 2 : 1)}`
  })

const laneColor = (side: string) => (lane: Lane) => ({
  start: lane.start,
  end: lane.end,
  color: lane.interrupted ? "#7f8c8d" : side
})

const tripCharts = (r: ScenarioResult) => {
  if (r.lanes === undefined) return ""
  const all = [...r.lanes.naive, ...r.lanes.guarded]
  const domain = [Math.min(0, ...all.map((l) => l.start)), Math.max(1, ...all.map((l) => l.end))] as const
  const chart = (side: "naive" | "guarded", color: string, mark: string, lanes: ReadonlyArray<Lane>) =>
    `<figure>${Svg.lanes({
      name: `${r.name}-lanes-${side}`,
      title: `${side}: the long calls`,
      mark,
      domain,
      lanes: lanes.map(laneColor(color))
    })}<figcaption>${side}</figcaption></figure>`
  return `<h3>The long calls ending, relative to the trip</h3><p>Grey: interrupted.</p>
<div class="pair">${chart("naive", naiveColor, "would trip", r.lanes.naive)}${chart("guarded", guardedColor, "trip", r.lanes.guarded)}</div>`
}

const table = (rows: ReadonlyArray<Row>) =>
  `<table><thead><tr><th></th><th>naive</th><th>guarded</th></tr></thead><tbody>${rows
    .map(
      ([label, n, g]) =>
        `<tr><td>${Svg.escapeHtml(label)}</td><td>${Svg.escapeHtml(n)}</td><td>${Svg.escapeHtml(g)}</td></tr>`
    )
    .join("")}</tbody></table>`

const section = (r: ScenarioResult) => `<section id="${Svg.escapeHtml(r.name)}">
<h2>${Svg.escapeHtml(r.title)}</h2><p>${Svg.escapeHtml(r.setup)}</p>
${table([...r.rows, ...refusedRows(r)])}
<div class="pair"><figure>${callsChart(r)}<figcaption>Calls over time</figcaption></figure>
<figure>${spendChart(r)}<figcaption>Spend against the limit</figcaption></figure></div>
${tripCharts(r)}
</section>`

const style = `body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1340px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:right}
td:first-child{text-align:left}.pair{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0}
svg text{font:11px system-ui,sans-serif;fill:#333}figcaption{text-align:center;color:#555}`

/**
 * The page for `results`, with `summary` (the final table, as text) at its end.
 *
 * @since 0.1.0
 * @category formatting
 */
export const render = (results: ReadonlyArray<ScenarioResult>, summary: string): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fleetguard demo</title><style>${style}</style></head>
<body><h1>fleetguard demo</h1>
<p>Each scenario ran twice against a local FakeAnthropic: naive (the Anthropic SDK's default retries, Promise.all) and guarded (fleetguard). Every figure is measured: requests from the server's record, spend from the usage the API reported, refusals from the guards' events.</p>
${results.map(section).join("\n")}
<section id="summary"><h2>All scenarios</h2><pre>${Svg.escapeHtml(summary)}</pre></section>
</body></html>
`
