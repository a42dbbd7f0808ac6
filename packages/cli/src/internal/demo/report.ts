/**
 * The demo's report as one self-contained HTML page: per scenario its headline, its table, its
 * calls over time (naive against guarded), its spend and, for the trip, the long calls ending;
 * then a table over every scenario. Inline SVG and CSS only: it opens offline.
 *
 * @since 0.1.0
 */
import type { Call, Charge, Lane, Row, ScenarioResult, Side } from "./scenario.js"
import * as Svg from "./svg.js"
import { chargedLabel, configuration, headlines, refusedRows, summary, usd } from "./table.js"

const naiveColor = "#d35400"
const guardedColor = "#2471a3"
const bothColor = "#c0392b"

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

/** When the API answered each side 429, shaded in the side's colour; once, when both sides' windows are one. */
const bands = (r: ScenarioResult): ReadonlyArray<Svg.Band> => {
  const band = (side: Side, color: string, label: string) =>
    side.rateLimited === undefined
      ? []
      : [{ from: seconds(side.rateLimited.from), to: seconds(side.rateLimited.until), color, label }]
  const [n, g] = [r.naive.rateLimited, r.guarded.rateLimited]
  return n !== undefined && g !== undefined && n.from === g.from && n.until === g.until
    ? band(r.naive, bothColor, "the API answering 429")
    : [
        ...band(r.naive, naiveColor, "naive: the API answering 429"),
        ...band(r.guarded, guardedColor, "guarded: the API answering 429")
      ]
}

const callsChart = (r: ScenarioResult) =>
  Svg.lines({
    xMax: duration(r),
    name: `${r.name}-calls`,
    title: `${r.title}: calls over time`,
    xLabel: "seconds since the side started",
    yLabel: "requests so far",
    bands: bands(r),
    series: [
      { label: "naive requests", color: naiveColor, points: cumulative(r.naive.calls.map((c) => c.at)) },
      { label: "guarded requests", color: guardedColor, points: cumulative(r.guarded.calls.map((c) => c.at)) },
      { label: "naive 429s", color: naiveColor, dashed: true, points: cumulative(rateLimited(r.naive.calls)) },
      { label: "guarded 429s", color: guardedColor, dashed: true, points: cumulative(rateLimited(r.guarded.calls)) }
    ]
  })

/** The guarded side's ledger, drawn only where it tells something the reported usage does not. */
const chargedSeries = (r: ScenarioResult): ReadonlyArray<Svg.Series> =>
  r.guarded.charged === undefined || r.guarded.charged.usd === r.guarded.reportedUsd
    ? []
    : [
        {
          label: `guarded: ${chargedLabel}`,
          color: guardedColor,
          dashed: true,
          points: spendLine(r.guarded.charged.charges)
        }
      ]

const spendChart = (r: ScenarioResult) =>
  Svg.lines({
    xMax: duration(r),
    name: `${r.name}-spend`,
    title: `${r.title}: spend`,
    xLabel: "seconds since the side started",
    yLabel: "USD",
    bands: bands(r),
    series: [
      { label: "naive: reported by the API", color: naiveColor, points: spendLine(r.naive.reported) },
      { label: "guarded: reported by the API", color: guardedColor, points: spendLine(r.guarded.reported) },
      ...chargedSeries(r)
    ],
    marks: [{ at: r.limitUsd, label: `fleet limit ${usd(r.limitUsd)}` }],
    format: (n, decimals) => `$${n.toFixed(decimals)}`
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

/** A row's cells; a label indented in the text table (a detail of the row above) is indented here too. */
const cells = (tag: "td" | "th", row: ReadonlyArray<string>) =>
  row
    .map((cell, i) =>
      i === 0 && cell.startsWith("  ")
        ? `<${tag} class="sub">${Svg.escapeHtml(cell.trim())}</${tag}>`
        : `<${tag}>${Svg.escapeHtml(cell)}</${tag}>`
    )
    .join("")

const table = (rows: ReadonlyArray<Row>) =>
  `<table><thead><tr><th></th><th>naive</th><th>guarded</th></tr></thead><tbody>${rows
    .map((row) => `<tr>${cells("td", row)}</tr>`)
    .join("")}</tbody></table>`

const headline = (r: ScenarioResult) =>
  `<div class="headline">${headlines(r)
    .map(
      (h) =>
        `<div><b>${Svg.escapeHtml(h.value)}</b><span>${Svg.escapeHtml(h.label)}</span><small>${Svg.escapeHtml(h.detail)}</small></div>`
    )
    .join("")}</div>`

const section = (r: ScenarioResult) => `<section id="${Svg.escapeHtml(r.name)}">
<h2>${Svg.escapeHtml(r.title)}</h2><p>${Svg.escapeHtml(r.setup)}</p>
${headline(r)}
${table([...r.rows, ...refusedRows(r)])}
<div class="pair"><figure>${callsChart(r)}<figcaption>Calls over time</figcaption></figure>
<figure>${spendChart(r)}<figcaption>Spend over time</figcaption></figure></div>
${tripCharts(r)}
</section>`

const summaryTable = (results: ReadonlyArray<ScenarioResult>) => {
  const { groups, columns, rows } = summary(results)
  const groupRow = groups.map(([label, span]) => `<th colspan="${span}">${Svg.escapeHtml(label)}</th>`).join("")
  return `<table class="summary"><thead><tr>${groupRow}</tr><tr>${cells("th", columns)}</tr></thead><tbody>${rows
    .map((row) => `<tr>${cells("td", row)}</tr>`)
    .join("")}</tbody></table>`
}

const style = `body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1340px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left}td.sub{padding-left:26px;color:#444}.summary th{text-align:center}.pair{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0}
.headline{display:flex;gap:16px;margin:1em 0}.headline div{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:220px}
.headline b{display:block;font-size:22px}.headline span{display:block;font-weight:600}.headline small{color:#555}
svg text{font:11px system-ui,sans-serif;fill:#333}figcaption{text-align:center;color:#555}`

/**
 * The page for `results`, the guarded side's `settings` said at its top and the table over every
 * scenario at its end.
 *
 * @since 0.1.0
 * @category formatting
 */
export const render = (
  results: ReadonlyArray<ScenarioResult>,
  settings: Readonly<Record<string, string>>
): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fleetguard demo</title><style>${style}</style></head>
<body><h1>fleetguard demo</h1>
<p>Each scenario ran twice against a local FakeAnthropic: naive (the Anthropic SDK's default retries, Promise.all) and guarded (fleetguard). Every figure is measured: requests from the server's record, refusals from the guards' events. Money is said two ways: <b>reported by the API</b> is the usage of each answer the API finished, at published prices; <b>charged by fleetguard</b> is what its ledger charged, which counts a stream cut short at the most the API may bill for it (the API bills what it generated, which the client never learns).</p>
<p>${Svg.escapeHtml(configuration(settings))}</p>
${results.map(section).join("\n")}
<section id="summary"><h2>All scenarios</h2>${summaryTable(results)}</section>
</body></html>
`
