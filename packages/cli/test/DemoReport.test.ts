import { existsSync } from "node:fs"
import { mkdtemp, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { chromium } from "playwright-core"
import { describe, expect, it } from "vitest"
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

const side = (calls: number, every: number, usd: number): Side => ({
  calls: Array.from({ length: calls }, (_, i) => call(i * every, i % 4 === 0 ? 429 : 200)),
  charges: Array.from({ length: calls }, (_, i) => ({ at: i * every + 50, usd })),
  spentUsd: calls * usd,
  wallMillis: calls * every
})

const result = (name: Demo.ScenarioName, lanes: boolean): ScenarioResult => ({
  name,
  title: `Scenario ${name} <&>`,
  setup: "agents and a script",
  rows: [["HTTP requests", "40", "20"]],
  refused: { BudgetExceeded: 3 },
  pauses: 1,
  limitUsd: 2,
  naive: side(40, 60, 0.08),
  guarded: side(20, 100, 0.05),
  lanes: lanes
    ? {
        naive: Array.from({ length: 15 }, (_, i) => ({ start: -500 - i, end: 3000 + i, interrupted: false })),
        guarded: Array.from({ length: 15 }, (_, i) => ({ start: -500 - i, end: 80 + i, interrupted: true }))
      }
    : undefined
})

const report: Demo.DemoReport = {
  results: [result("storm", false), result("trip", true)],
  wallMillis: 1000
}

describe("the demo's HTML report", () => {
  it.skipIf(chromiumMissing)(
    "draws every chart in headless Chromium, offline, with no console or page error",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "fleetguard-report-"))
      const file = join(dir, "report.html")
      await writeFile(file, Demo.html(report))
      const browser = await chromium.launch({ executablePath })
      try {
        const page = await browser.newPage()
        const errors: Array<string> = []
        const fetched: Array<string> = []
        page.on("console", (message) => {
          if (message.type() === "error") errors.push(message.text())
        })
        page.on("pageerror", (error) => errors.push(String(error)))
        page.on("request", (request) => {
          if (!request.url().startsWith("file:")) fetched.push(request.url())
        })
        await page.goto(pathToFileURL(file).href, { waitUntil: "load" })
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
      } finally {
        await browser.close()
      }
    },
    60_000
  )
})
