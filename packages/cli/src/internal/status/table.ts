/**
 * `fleetguard status`'s table: the report as people read it, one section a kind of event.
 */
import { printable, type StatusReport } from "../../Summary.js"

const usd = (n: number) => `$${n.toFixed(4)}`
const time = (at: number) => new Date(at).toISOString()

const ago = (millis: number) => {
  const s = Math.max(0, Math.round(millis / 1000))
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`
}

/** Rows of cells, each column as wide as its widest cell. */
const columns = (rows: ReadonlyArray<ReadonlyArray<string>>): ReadonlyArray<string> => {
  const widths = rows.reduce<Array<number>>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), [])
  return rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd()
  )
}

const section = (title: string, lines: ReadonlyArray<string>) => [
  "",
  `${title}${lines.length === 0 ? ": none" : ""}`,
  ...lines.map((line) => `  ${line}`)
]

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`

/** Which run, and how many the window holds. */
const runLine = ({ runId, runs }: StatusReport) =>
  runId === "all"
    ? `all ${plural(runs, "run")}`
    : `${printable(runId)} (${plural(runs, "run")}${runs > 1 ? "; --run ID or --all for others" : ""})`

/** Whether the run has ended, or how long it has been silent: still going, or cut off. */
const stateLine = (report: StatusReport, now: number) => {
  if (report.endedAt !== null) return `ended at ${time(report.endedAt)}`
  const silent = report.lastEventAt === null ? "" : `; last event ${ago(now - report.lastEventAt)}`
  const which = report.runId === "all" ? "not every run has ended" : "not ended"
  return `${which} (no RunEnded): still going, or cut off${silent}`
}

const fleetLine = ({ fleet }: StatusReport) => {
  const limit =
    fleet.limitUsd > 0
      ? `of ${usd(fleet.limitUsd)} (${Math.round((100 * fleet.spentUsd) / fleet.limitUsd)}%)`
      : "(no limit in the journal)"
  return `${usd(fleet.spentUsd)} spent ${limit}, ${usd(fleet.reservedUsd)} reserved`
}

/** The agents' title: partial, and by how much, when the journal lost events or a run's first lines. */
const agentsTitle = (report: StatusReport) => {
  const lost = [
    ...(report.droppedEvents > 0
      ? [`the journal's writer dropped ${plural(report.droppedEvents, "event")} (EventsDropped)`]
      : []),
    ...(report.prunedRuns === 0
      ? []
      : [
          report.runId === "all"
            ? `the first lines of ${plural(report.prunedRuns, "run")} were rotated away (maxFiles)`
            : "the run's first lines were rotated away (maxFiles)"
        ])
  ]
  if (lost.length === 0) return "agents by spend"
  const counted = report.agents.reduce((n, a) => n + Math.round(a.spentUsd * 1e9), 0) / 1e9
  const short =
    counted < report.fleet.spentUsd
      ? `; the agents below account for ${usd(counted)} of the ${usd(report.fleet.spentUsd)} spent`
      : ""
  return `agents by spend: partial, ${lost.join(" and ")}${short}`
}

const agentRows = (report: StatusReport) =>
  columns(
    report.agents.map((a) => {
      const refused = Object.entries(a.rejections).map(([reason, n]) => `${printable(reason)} ${n}`)
      return [
        printable(a.agentId),
        usd(a.spentUsd),
        plural(a.calls, "call"),
        refused.length === 0 ? "" : `refused ${refused.join(", ")}`
      ]
    })
  )

export const table = (report: StatusReport, now: number): string =>
  [
    `journal     ${printable(report.journal)}`,
    `run         ${runLine(report)}`,
    ...(report.runId === "" ? [] : [`state       ${stateLine(report, now)}`]),
    `last event  ${report.lastEventAt === null ? "none" : `${time(report.lastEventAt)}, ${ago(now - report.lastEventAt)}`}`,
    `fleet       ${fleetLine(report)}`,
    ...section(agentsTitle(report), agentRows(report)),
    ...section(
      "breaker trips",
      report.trips.map((t) => `${time(t.at)}  ${t.interrupted} interrupted`)
    ),
    ...section(
      "rate-limit pauses",
      report.pauses.map((p) => `${time(p.at)}  until ${time(p.untilMillis)}${p.capped ? "  capped by maxPause" : ""}`)
    ),
    ...section(
      "alerts",
      report.alerts.map(
        (a) =>
          `${time(a.at)}  ${printable(a.kind)} (${printable(a.incident)}) to ${printable(a.sink)}: ${a.delivered ? "delivered" : "not delivered"}`
      )
    ),
    ...section(
      "refusals",
      Object.entries(report.rejections).map(([reason, n]) => `${printable(reason)}: ${n}`)
    ),
    ...(report.skippedLines === 0
      ? []
      : [
          "",
          `skipped ${plural(report.skippedLines, "line")} that could not be read (torn by a crash, of an unknown kind, or holding a time or amount no guard writes)`
        ])
  ].join("\n")
