import { existsSync } from "node:fs"
import { mkdtemp, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { chromium, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Demo from "../src/Demo.js"
import type { Call, ScenarioResult, Side } from "../src/internal/demo/scenario.js"

// Debian's chromium; CI (.ci/run) installs it when missing. Without it the test is skipped, and says so.
const executablePath = "/usr/bin/chromium"
const chromiumMissing = !existsSync(executablePath)
if (chromiumMissing)
  console.warn(
    `SKIPPED: the demo report's browser test: ${executablePath} is missing (apt-get install chromium to run it)`
  )

const call = (at: number, status: number): Call => ({
  at,
  endedAt: at + 50,
  status,
  outcome: "answered",
  stream: false
})

/** `calls` calls `every` ms apart, one in four answered 429 when `limited`, each charged `usd`. */
const side = (calls: number, every: number, usd: number, limited: boolean, ledger: boolean): Side => {
  const charges = Array.from({ length: calls }, (_, i) => ({ at: i * every + 50, usd }))
  return {
    calls: Array.from({ length: calls }, (_, i) => call(i * every, limited && i % 4 === 0 ? 429 : 200)),
    reported: charges,
    reportedUsd: calls * usd,
    charged: ledger ? { charges, usd: calls * usd } : undefined,
    waits: [],
    sent: [],
    finished: 3,
    rateLimited: limited ? { from: 0, until: 800 } : undefined,
    wallMillis: calls * every
  }
}

const result = (name: Demo.ScenarioName, usd: number, lanes: boolean): ScenarioResult => ({
  name,
  title: `Scenario ${name} <&>`,
  setup: "agents and a script",
  rows: [
    ["HTTP requests", "40", "20"],
    ["  answered 200", "30", "20"]
  ],
  refused: { BudgetExceeded: 3 },
  pauses: 1,
  limitUsd: 2,
  agents: 5,
  naive: side(40, 60, usd, !lanes, false),
  // The guarded side never drew a 429: its 429 line has nothing to show.
  guarded: side(20, 100, usd / 2, false, true),
  lanes: lanes
    ? {
        naive: Array.from({ length: 15 }, (_, i) => ({ start: -500 - i, end: 3000 + i, interrupted: false })),
        guarded: Array.from({ length: 15 }, (_, i) => ({ start: -500 - i, end: 80 + i, interrupted: true }))
      }
    : undefined
})

// Storm: $0.04 in all against a $2 limit (a scale of cents); budget: $3.20, past the limit.
const report: Demo.DemoReport = {
  results: [result("storm", 0.001, false), result("budget", 0.08, false), result("trip", 0.001, true)],
  wallMillis: 1000
}

describe.skipIf(chromiumMissing)("the demo's HTML report, in headless Chromium", () => {
  let browser: Awaited<ReturnType<typeof chromium.launch>>
  let page: Page
  const errors: Array<string> = []
  const fetched: Array<string> = []

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), "fleetguard-report-"))
    const file = join(dir, "report.html")
    await writeFile(file, Demo.html(report))
    browser = await chromium.launch({ executablePath })
    page = await browser.newPage()
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text())
    })
    page.on("pageerror", (error) => errors.push(String(error)))
    page.on("request", (request) => {
      if (!request.url().startsWith("file:")) fetched.push(request.url())
    })
    await page.goto(pathToFileURL(file).href, { waitUntil: "load" })
  }, 60_000)

  afterAll(() => browser?.close())

  it("draws every chart, offline, with no console or page error", async () => {
    const charts = await page.$$eval("svg.chart", (svgs) =>
      svgs.map((svg) => {
        const box = svg.getBoundingClientRect()
        const drawn = [...svg.querySelectorAll("path, rect")].filter((shape) => {
          // getBBox is SVG's, whose types are not in this project's lib (no DOM).
          const b = (shape as unknown as { getBBox(): { width: number; height: number } }).getBBox()
          return b.width > 0 || b.height > 0
        })
        return { name: svg.getAttribute("data-chart"), width: box.width, height: box.height, drawn: drawn.length }
      })
    )
    expect(charts.map((c) => c.name)).toEqual([
      "storm-calls",
      "storm-spend",
      "budget-calls",
      "budget-spend",
      "trip-calls",
      "trip-spend",
      "trip-lanes-naive",
      "trip-lanes-guarded"
    ])
    for (const chart of charts) {
      expect(chart.width, chart.name ?? "").toBeGreaterThan(0)
      expect(chart.height, chart.name ?? "").toBeGreaterThan(0)
      expect(chart.drawn, chart.name ?? "").toBeGreaterThan(0)
    }
    // The lanes chart draws one bar per long call.
    expect(charts.at(-1)?.drawn).toBe(15)
    expect(await page.title()).toBe("fleetguard demo")
    expect(errors).toEqual([])
    expect(fetched).toEqual([])
  })

  it("scales spend to the data, and says when the fleet limit is above the scale", async () => {
    const yTicks = (chart: string) =>
      page.$$eval(`svg[data-chart="${chart}"] text[text-anchor="end"]`, (texts) => texts.map((t) => t.textContent))
    // $0.04 spent: ticks in cents, the $2 limit left out and said so.
    expect((await yTicks("storm-spend")).at(-1)).toBe("$0.04")
    expect(await page.textContent('svg[data-chart="storm-spend"]')).toContain("fleet limit $2.0000: above this scale")
    // $3.20 spent: the limit is on the scale, drawn.
    expect((await yTicks("budget-spend")).at(-1)).toBe("$4")
    expect(await page.textContent('svg[data-chart="budget-spend"]')).not.toContain("above this scale")
  })

  it("puts every legend below its plot, lists only series with something to show, and shades the 429 window", async () => {
    const layout = await page.$$eval("svg.chart", (svgs) =>
      svgs.map((svg) => {
        const axis = svg.querySelector("line.x-axis")?.getBoundingClientRect().bottom ?? Number.NaN
        const tops = [...svg.querySelectorAll("g.legend")].map((g) => g.getBoundingClientRect().top)
        const rights = [...svg.querySelectorAll("g.legend")].map((g) => g.getBoundingClientRect().right)
        return {
          name: svg.getAttribute("data-chart"),
          axis,
          tops,
          overflow: Math.max(0, ...rights) - svg.getBoundingClientRect().right,
          legend: [...svg.querySelectorAll("g.legend text")].map((t) => t.textContent),
          bands: svg.querySelectorAll("rect.band").length
        }
      })
    )
    for (const chart of layout) {
      for (const top of chart.tops) expect(top, chart.name ?? "").toBeGreaterThan(chart.axis)
      expect(chart.overflow, chart.name ?? "").toBeLessThanOrEqual(0)
    }
    const storm = layout.find((c) => c.name === "storm-calls")
    expect(storm?.legend).toEqual(["naive requests", "guarded requests", "naive 429s", "naive: the API answering 429"])
    expect(storm?.bands).toBe(1)
    expect(layout.find((c) => c.name === "trip-calls")?.bands).toBe(0)
  })

  it("heads each scenario with requests saved, dollars saved and agents that finished; ends with one table", async () => {
    const headlines = await page.$$eval("section .headline", (heads) =>
      heads.map((h) => [...h.querySelectorAll("span")].map((s) => s.textContent))
    )
    expect(headlines).toEqual(
      Array.from({ length: 3 }, () => ["requests saved", "dollars saved", "agents that finished"])
    )
    const summary = await page.$$eval("#summary table tbody tr", (rows) =>
      rows.map((r) => r.querySelector("td")?.textContent)
    )
    expect(summary).toEqual(["storm", "budget", "trip"])
    const body = (await page.textContent("body")) ?? ""
    expect(body.split("All scenarios")).toHaveLength(2)
  })
})
