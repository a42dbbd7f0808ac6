/**
 * FakeAnthropic's record of every request: what arrived (never the API key), and how it ended. How
 * a request ended comes from the Node response's own events ("finish", "close"): the server
 * interrupts a handler when its connection closes early, but a response body is written after the
 * handler returns, so only the response knows it was delivered.
 */
import type { ServerResponse } from "node:http"
import { type Clock, Effect } from "effect"
import type { RecordedRequest } from "./fakeAnthropicModel.js"

export type Ending = Exclude<RecordedRequest["outcome"], "in-flight">

/** What a request brought, as recorded. */
export type Arrival = Pick<RecordedRequest, "at" | "method" | "path" | "headers" | "body" | "fault">

export const parseBody = (raw: string): unknown => {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

const secretHeaders = new Set(["authorization", "x-api-key"])

export const recordedHeaders = (headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>) =>
  Object.fromEntries(
    Object.entries(headers).map(([name, value]) => {
      const key = name.toLowerCase()
      return [key, secretHeaders.has(key) ? "[redacted]" : typeof value === "string" ? value : (value ?? []).join(", ")]
    })
  )

/** The records, the requests in flight (and their high-water mark), and a latch open while none is. */
export const recorder = (clock: Clock.Clock) =>
  Effect.map(Effect.makeLatch(true), (idle) => {
    const records: Array<RecordedRequest> = []
    let inFlight = 0
    let peakInFlight = 0

    const record = (arrival: Arrival): RecordedRequest => {
      const entry: RecordedRequest = {
        index: records.length,
        ...arrival,
        status: null,
        outcome: "in-flight",
        endedAt: null
      }
      records.push(entry)
      return entry
    }

    /** Follows the response to its end; returns how to end it early (a drop). */
    const track = (entry: RecordedRequest, response: ServerResponse) => {
      peakInFlight = Math.max(peakInFlight, ++inFlight)
      idle.unsafeClose()
      const end = (outcome: Ending) => {
        if (entry.outcome !== "in-flight") return
        entry.outcome = outcome
        entry.status = response.headersSent ? response.statusCode : null
        entry.endedAt = clock.unsafeCurrentTimeMillis()
        if (--inFlight === 0) idle.unsafeOpen()
      }
      response.once("finish", () => end("answered"))
      // "close" follows "finish" on every response; before it, only when the connection went first.
      response.once("close", () => end("client-closed"))
      return end
    }

    return {
      record,
      track,
      requests: Effect.sync(() => records.slice()),
      awaitIdle: idle.await,
      peakInFlight: Effect.sync(() => peakInFlight)
    }
  })

export type Recorder = Effect.Effect.Success<ReturnType<typeof recorder>>
