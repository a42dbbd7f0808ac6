import Anthropic, { APIConnectionError } from "@anthropic-ai/sdk"
import { describe, expect, it } from "@effect/vitest"
import { carrying, FetchTrace, tracingFetch } from "../src/internal/fetchTrace.js"

// Port 6000 is on fetch's list of ports it refuses: fetch rejects without touching the network.
const client = new Anthropic({
  apiKey: "k",
  baseURL: "http://127.0.0.1:6000",
  maxRetries: 0,
  logLevel: "off",
  fetch: tracingFetch
})
const params = { model: "claude-haiku-4-5", messages: [{ role: "user" as const, content: "hi" }] }
const thrownBy = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error
  )

describe("tracingFetch, through the SDK", () => {
  it("the trace rides in fetchOptions to fetch, which records it ran and keeps what it threw, rethrown as is", async () => {
    const trace = new FetchTrace()
    const error = await thrownBy(client.messages.countTokens(params, { fetchOptions: carrying(trace) }))
    expect(error).toBeInstanceOf(APIConnectionError)
    expect(trace).toMatchObject({ invoked: true, answered: false })
    expect(trace.failure).toBeInstanceOf(TypeError)
    expect(error instanceof APIConnectionError && error.cause).toBe(trace.failure)
  })

  it("a request without a trace is fetched all the same", async () => {
    expect(await thrownBy(client.messages.countTokens(params))).toBeInstanceOf(APIConnectionError)
  })
})
