/**
 * How far one request got on its way out. The SDK's errors cannot tell: a request it refused to
 * build and one fetch refused look alike, and a timeout replaces what fetch threw with an error
 * that has no cause. So each request carries a trace to the client's `fetch`, which fills it in.
 */
import type Anthropic from "@anthropic-ai/sdk"

/** Filled in by `tracingFetch` for the request that carries it. */
export class FetchTrace {
  /** fetch was called: the SDK built the request and handed it over. */
  invoked = false
  /** fetch resolved: the provider answered, headers at least. */
  answered = false
  /** What fetch threw, as it threw it (with its `cause` chain and `code`s). */
  failure: unknown = undefined
}

// The SDK spreads a request's `fetchOptions` into the init it hands to fetch, symbol keys included.
const traceKey: unique symbol = Symbol("@fleetguard/anthropic/FetchTrace")

/** The SDK's per-request `fetchOptions`. */
export type FetchOptions = NonNullable<NonNullable<Parameters<Anthropic["messages"]["countTokens"]>[1]>["fetchOptions"]>

/** The per-request `fetchOptions` that carry `trace` to `tracingFetch`. */
export const carrying = (trace: FetchTrace): FetchOptions => {
  const init: FetchOptions = {}
  return Object.assign(init, { [traceKey]: trace })
}

const traceIn = (init: RequestInit | undefined): FetchTrace | undefined => {
  const trace = init !== undefined && traceKey in init ? init[traceKey] : undefined
  return trace instanceof FetchTrace ? trace : undefined
}

/**
 * The global fetch, recording in the request's trace that it was called and how it ended. What
 * fetch throws is rethrown as the same object: the SDK tells a timeout by its message and cause.
 */
export const tracingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  const trace = traceIn(init)
  if (trace !== undefined) trace.invoked = true
  try {
    const response = await fetch(input, init)
    if (trace !== undefined) trace.answered = true
    return response
  } catch (error) {
    if (trace !== undefined) trace.failure = error
    throw error
  }
}
