/**
 * The report's charts as inline SVG, drawn here so that the page needs no network and no library:
 * step lines of cumulative counts over time, and lanes of calls against an instant. The legend sits
 * below the plot, never over the data.
 *
 * @since 0.1.0
 */

/**
 * A line: points in data units, drawn as steps (a count that rises at each point).
 *
 * @since 0.1.0
 * @category models
 */
export interface Series {
  readonly label: string
  readonly color: string
  readonly dashed?: boolean | undefined
  readonly points: ReadonlyArray<readonly [x: number, y: number]>
}

/**
 * A horizontal reference line (a limit).
 *
 * @since 0.1.0
 * @category models
 */
export interface Mark {
  readonly at: number
  readonly label: string
}

/**
 * A shaded span of the x axis (a window in which the API answered 429).
 *
 * @since 0.1.0
 * @category models
 */
export interface Band {
  readonly from: number
  readonly to: number
  /** Of its edges: every band is filled alike, so that overlapping ones do not mix into a third colour. */
  readonly color: string
  readonly label: string
}

const width = 640
const margin = { top: 16, right: 16, left: 64 }
const plotWidth = width - margin.left - margin.right
const plotHeight = 200
const axisY = margin.top + plotHeight
const legendTop = axisY + 48
const legendRow = 18
// Wide enough for a legend text of 11 px system-ui: the legend is laid out without measuring it.
const charWidth = 6.4
const markColor = "#c0392b"
const bandFill = "#e74c3c"
const bandOpacity = 0.1

/** @since 0.1.0 @category formatting */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const fixed = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1))

/** Round numbers for an axis from 0 to at least `max`: 1, 2 or 5 times a power of ten apart. */
const ticks = (max: number): Array<number> => {
  const raw = Math.max(max, 1e-9) / 4
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw
  return Array.from({ length: Math.ceil(max / step - 1e-9) + 1 }, (_, i) => i * step)
}

/** Round ticks within [min, max], 0 among them when it is in range. */
const axisTicks = (min: number, max: number): Array<number> => {
  const step = ticks(max - min)[1] ?? 1
  const first = Math.ceil(min / step)
  return Array.from({ length: Math.floor(max / step) - first + 1 }, (_, i) => (first + i) * step)
}

interface Scale {
  readonly x: (v: number) => number
  readonly y: (v: number) => number
  readonly xTicks: ReadonlyArray<number>
  readonly yTicks: ReadonlyArray<number>
}

const scale = (xMin: number, xMax: number, yMax: number): Scale => {
  const yTicks = ticks(yMax)
  const top = yTicks.at(-1) ?? 1
  const span = Math.max(xMax - xMin, 1e-9)
  return {
    x: (v) => margin.left + ((Math.min(Math.max(v, xMin), xMax) - xMin) / span) * plotWidth,
    y: (v) => margin.top + plotHeight - (v / top) * plotHeight,
    xTicks: axisTicks(xMin, xMax),
    yTicks
  }
}

/** Decimals enough to tell the ticks `step` apart. */
const decimalsFor = (step: number) => Math.max(0, -Math.floor(Math.log10(step) + 1e-9))

const xAxis = (s: Scale, label: string) =>
  [
    ...s.xTicks.map((t) => `<text x="${s.x(t)}" y="${axisY + 16}" text-anchor="middle">${fixed(t)}</text>`),
    `<line class="x-axis" x1="${margin.left}" x2="${width - margin.right}" y1="${axisY}" y2="${axisY}" stroke="#888"/>`,
    `<text x="${margin.left + plotWidth / 2}" y="${axisY + 34}" text-anchor="middle">${escapeHtml(label)}</text>`
  ].join("")

const yAxis = (s: Scale, label: string, format: (n: number, decimals: number) => string) => {
  const decimals = decimalsFor(s.yTicks[1] ?? 1)
  return [
    ...s.yTicks.map(
      (t) =>
        `<line x1="${margin.left}" x2="${width - margin.right}" y1="${s.y(t)}" y2="${s.y(t)}" stroke="#e3e3e3"/>` +
        `<text x="${margin.left - 6}" y="${s.y(t) + 4}" text-anchor="end">${escapeHtml(format(t, decimals))}</text>`
    ),
    `<text transform="translate(14 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(label)}</text>`
  ].join("")
}

const stepPath = (s: Scale, points: ReadonlyArray<readonly [number, number]>) => {
  const [first, ...rest] = points
  if (first === undefined) return ""
  let d = `M${s.x(first[0]).toFixed(1)},${s.y(first[1]).toFixed(1)}`
  let y = first[1]
  for (const [px, py] of rest) {
    d += `H${s.x(px).toFixed(1)}V${s.y(py).toFixed(1)}`
    y = py
  }
  return `${d}H${(margin.left + plotWidth).toFixed(1)}V${s.y(y).toFixed(1)}`
}

/** What a legend entry shows: a line (solid or dashed) or a swatch. */
interface Entry {
  readonly label: string
  readonly color: string
  readonly kind: "line" | "dashed" | "swatch"
}

/** Where each entry goes: left to right, a new row when the next would pass the plot's right edge. */
const legendLayout = (entries: ReadonlyArray<Entry>): Array<readonly [x: number, row: number]> => {
  const places: Array<readonly [number, number]> = []
  let [x, row] = [0, 0]
  for (const e of entries) {
    const w = 24 + e.label.length * charWidth + 16
    if (x > 0 && x + w > plotWidth) [x, row] = [0, row + 1]
    places.push([x, row])
    x += w
  }
  return places
}

const legendKey = (e: Entry) =>
  e.kind === "swatch"
    ? `<rect x="0" y="-6" width="18" height="10" fill="${bandFill}" fill-opacity="${bandOpacity}" stroke="${e.color}"/>`
    : `<line x1="0" x2="18" y1="0" y2="0" stroke="${e.color}" stroke-width="2"${e.kind === "dashed" ? ' stroke-dasharray="4 3"' : ""}/>`

/** The legend below the x axis' label, and the height it takes. */
const legend = (entries: ReadonlyArray<Entry>): readonly [svg: string, height: number] => {
  const places = legendLayout(entries)
  const rows = entries.length === 0 ? 0 : Math.max(...places.map(([, row]) => row)) + 1
  const svg = entries
    .map((e, i) => {
      const [x, row] = places[i] ?? [0, 0]
      return `<g class="legend" transform="translate(${margin.left + x} ${legendTop + row * legendRow})">${legendKey(e)}<text x="24" y="4">${escapeHtml(e.label)}</text></g>`
    })
    .join("")
  return [svg, rows * legendRow]
}

const svg = (name: string, title: string, height: number, body: string) =>
  `<svg class="chart" data-chart="${escapeHtml(name)}" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">${body}</svg>`

/** A series with nothing to show: it never leaves 0. */
const isEmpty = (series: Series) => series.points.every(([, y]) => y === 0)

/**
 * Step lines over time, with shaded bands (drawn under the lines) and horizontal marks. The y axis
 * is scaled to the data: a mark far above it (more than half again its top) is left out, and the
 * legend says so. Series that never leave 0 are neither drawn nor listed.
 *
 * @since 0.1.0
 * @category charts
 */
export const lines = (options: {
  readonly name: string
  readonly title: string
  readonly xLabel: string
  readonly yLabel: string
  readonly series: ReadonlyArray<Series>
  readonly marks?: ReadonlyArray<Mark> | undefined
  readonly bands?: ReadonlyArray<Band> | undefined
  /** A y value for its axis, given the decimals that tell its ticks apart. */
  readonly format?: ((n: number, decimals: number) => string) | undefined
  /** The end of the x axis, shared by charts meant to be compared; default the last point. */
  readonly xMax?: number | undefined
}): string => {
  const series = options.series.filter((line) => !isEmpty(line))
  const all = series.flatMap((line) => line.points)
  const dataMax = Math.max(...all.map(([, y]) => y), 1e-9)
  const marks = options.marks ?? []
  const shown = marks.filter((m) => m.at <= dataMax * 1.5)
  const hidden = marks.filter((m) => m.at > dataMax * 1.5)
  const bands = options.bands ?? []
  const s = scale(0, options.xMax ?? Math.max(1, ...all.map(([x]) => x)), Math.max(dataMax, ...shown.map((m) => m.at)))
  const format = options.format ?? ((n) => fixed(n))
  const shaded = bands.map((b) => {
    const [from, to] = [s.x(b.from), s.x(b.to)]
    const edge = (x: number) =>
      `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${margin.top}" y2="${axisY}" stroke="${b.color}" stroke-opacity="0.6"/>`
    return `<rect class="band" x="${from.toFixed(1)}" y="${margin.top}" width="${Math.max(1, to - from).toFixed(1)}" height="${plotHeight}" fill="${bandFill}" fill-opacity="${bandOpacity}"/>${edge(from)}${edge(to)}`
  })
  const marked = shown.map(
    (m) =>
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${s.y(m.at)}" y2="${s.y(m.at)}" stroke="${markColor}" stroke-dasharray="6 4"/>`
  )
  const paths = series.map(
    (line) =>
      `<path d="${stepPath(s, line.points)}" fill="none" stroke="${line.color}" stroke-width="2"${line.dashed === true ? ' stroke-dasharray="4 3"' : ""}/>`
  )
  const entries: Array<Entry> = [
    ...series.map(
      (line) => ({ label: line.label, color: line.color, kind: line.dashed === true ? "dashed" : "line" }) as const
    ),
    ...bands.map((b) => ({ label: b.label, color: b.color, kind: "swatch" }) as const),
    ...shown.map((m) => ({ label: m.label, color: markColor, kind: "dashed" }) as const),
    ...hidden.map((m) => ({ label: `${m.label}: above this scale`, color: "#bbb", kind: "dashed" }) as const)
  ]
  const [legendSvg, legendHeight] = legend(entries)
  return svg(
    options.name,
    options.title,
    legendTop + legendHeight,
    shaded.join("") +
      yAxis(s, options.yLabel, format) +
      xAxis(s, options.xLabel) +
      marked.join("") +
      paths.join("") +
      legendSvg
  )
}

/**
 * One bar per call from its start to its end, against an instant at x = 0 (a trip).
 *
 * @since 0.1.0
 * @category charts
 */
export const lanes = (options: {
  readonly name: string
  readonly title: string
  readonly mark: string
  readonly lanes: ReadonlyArray<{ readonly start: number; readonly end: number; readonly color: string }>
  /** The x range, shared by charts meant to be compared. */
  readonly domain: readonly [min: number, max: number]
}): string => {
  const s = scale(options.domain[0], options.domain[1], 1)
  const band = plotHeight / Math.max(1, options.lanes.length)
  const bars = options.lanes.map(
    (l, i) =>
      `<rect x="${s.x(l.start).toFixed(1)}" y="${(margin.top + i * band + band * 0.15).toFixed(1)}" width="${Math.max(1, s.x(l.end) - s.x(l.start)).toFixed(1)}" height="${(band * 0.7).toFixed(1)}" fill="${l.color}"/>`
  )
  const trip = `<line x1="${s.x(0)}" x2="${s.x(0)}" y1="${margin.top}" y2="${axisY}" stroke="${markColor}" stroke-width="2"/><text x="${s.x(0)}" y="${margin.top - 4}" text-anchor="middle" fill="${markColor}">${escapeHtml(options.mark)}</text>`
  return svg(options.name, options.title, axisY + 42, bars.join("") + trip + xAxis(s, "ms relative to the trip"))
}
