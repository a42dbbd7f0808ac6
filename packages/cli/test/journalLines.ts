/** Journal lines built from events, as a fleet's journal holds them, for the summary's and the table's tests. */
import { Events, type JournalLine } from "@fleetguard/core"

export const settled = (
  at: number,
  agentId: string,
  costUsd: number,
  outcome: Events.CallSettled["outcome"] = "success"
) =>
  new Events.CallSettled({
    at,
    agentId,
    model: "claude-haiku-4-5",
    outcome,
    attempts: 1,
    reservedUsd: costUsd,
    costUsd,
    inputTokens: 1,
    outputTokens: 1,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0
  })

/** A run's first line, under a fleet limit of $5. */
export const started = (at: number) =>
  new Events.RunStarted({
    at,
    budget: { limitUsd: 5, perAgentLimitUsd: 1, alertAt: 0.8 },
    journal: { maxBytes: 1, maxFiles: 1, capacity: 1 }
  })

export const line = (runId: string, event: Events.GuardEvent): JournalLine => ({
  v: 1,
  at: event.at,
  pid: 1,
  runId,
  event
})
