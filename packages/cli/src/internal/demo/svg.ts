/**
 * The report's charts as inline SVG, drawn here so that the page needs no network and no library:
 * step lines of cumulative counts over time, and lanes of calls against an instant.
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
 * A horizontal (y) or vertical (x) reference line.
 *
 * @since 0.1.0
 * @category models
 */
export interface Mark {
  readonly at: number
  readonly label: string
}

const width = 640
const height = 260
const margin = { top: 16, right: 16, bottom: 40, left: 64 }
const plotWidth = width - margin.left - margin.right
const plotHeight = height - margin.top - margin.bottom

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
    x: (v) => margin.left + ((v - xMin) / span) * plotWidth,
    y: (v) => margin.top + plotHeight - (v / top) * plotHeight,
    xTicks: axisTicks(xMin, xMax),
    yTicks
  }
}

const axes = (s: Scale, xLabel: string, yLabel: string, format: (n: number) => string) =>
  [
    ...s.yTicks.map(
      (t) =>
        `<line x1="${margin.left}" x2="${width - margin.right}" y1="${s.y(t)}" y2="${s.y(t)}" stroke="#e3e3e3"/>` +
        `<text x="${margin.left - 6}" y="${s.y(t) + 4}" text-anchor="end">${escapeHtml(format(t))}</text>`
    ),
    ...s.xTicks.map(
      (t) => `<text x="${s.x(t)}" y="${height - margin.bottom + 16}" text-anchor="middle">${fixed(t)}</text>`
    ),
    `<line x1="${margin.left}" x2="${width - margin.right}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight}" stroke="#888"/>`,
    `<text x="${margin.left + plotWidth / 2}" y="${height - 6}" text-anchor="middle">${escapeHtml(xLabel)}</text>`,
    `<text transform="translate(14 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(yLabel)}</text>`
  ].join("")

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

const legend = (
  series: ReadonlyArray<{ readonly label: string; readonly color: string; readonly dashed?: boolean | undefined }>
) =>
  series
    .map(
      (l, i) =>
        `<g transform="translate(${margin.left + 8 + i * 150} ${margin.top + 6})">` +
        `<line x1="0" x2="18" y1="0" y2="0" stroke="${l.color}" stroke-width="2"${l.dashed === true ? ' stroke-dasharray="4 3"' : ""}/>` +
        `<text x="22" y="4">${escapeHtml(l.label)}</text></g>`
    )
    .join("")

const svg = (name: string, title: string, body: string) =>
  `<svg class="chart" data-chart="${escapeHtml(name)}" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">${body}</svg>`

/**
 * Step lines over time, with horizontal marks (a limit).
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
  readonly format?: ((n: number) => string) | undefined
  /** The end of the x axis, shared by charts meant to be compared; default the last point. */
  readonly xMax?: number | undefined
}): string => {
  const all = options.series.flatMap((s) => s.points)
  const marks = options.marks ?? []
  const s = scale(
    0,
    options.xMax ?? Math.max(1, ...all.map(([x]) => x)),
    Math.max(...all.map(([, y]) => y), ...marks.map((m) => m.at), 1e-9)
  )
  const marked = marks.map(
    (m) =>
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${s.y(m.at)}" y2="${s.y(m.at)}" stroke="#c0392b" stroke-dasharray="6 4"/>` +
      `<text x="${width - margin.right - 4}" y="${s.y(m.at) - 4}" text-anchor="end" fill="#c0392b">${escapeHtml(m.label)}</text>`
  )
  const paths = options.series.map(
    (line) =>
      `<path d="${stepPath(s, line.points)}" fill="none" stroke="${line.color}" stroke-width="2"${line.dashed === true ? ' stroke-dasharray="4 3"' : ""}/>`
  )
  return svg(
    options.name,
    options.title,
    axes(s, options.xLabel, options.yLabel, options.format ?? fixed) +
      marked.join("") +
      paths.join("") +
      legend(options.series)
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
  const trip = `<line x1="${s.x(0)}" x2="${s.x(0)}" y1="${margin.top}" y2="${margin.top + plotHeight}" stroke="#c0392b" stroke-width="2"/><text x="${s.x(0) + 4}" y="${margin.top + 10}" fill="#c0392b">${escapeHtml(options.mark)}</text>`
  const xAxis = s.xTicks.map(
    (t) => `<text x="${s.x(t)}" y="${height - margin.bottom + 16}" text-anchor="middle">${fixed(t)}</text>`
  )
  return svg(
    options.name,
    options.title,
    bars.join("") +
      trip +
      xAxis.join("") +
      `<text x="${margin.left + plotWidth / 2}" y="${height - 6}" text-anchor="middle">ms relative to the trip</text>`
  )
}
