/**
 * The two ways a scenario's agents reach the server. Naive: the Anthropic SDK as it comes (its
 * default retries), charged from the usage each answer reports. Guarded: `LlmClient` over
 * `AnthropicProvider` and `Guards`, with the guard events it published. Each side gets a
 * FakeAnthropic of its own, built from the same options.
 *
 * @since 0.1.0
 */
import Anthropic from "@anthropic-ai/sdk"
import { AnthropicProvider } from "@fleetguard/anthropic"
import {
  type CompletionRequest,
  Events,
  type GuardEvent,
  GuardEvents,
  type GuardServices,
  Guards,
  type GuardsOptions,
  LlmClient,
  type PricingService
} from "@fleetguard/core"
import { FakeAnthropic } from "@fleetguard/testing"
import { Chunk, Clock, Duration, Effect, Layer, Queue, Redacted } from "effect"
import { guards } from "./agents.js"
import { callsOf, pauses, refusals, settled, spent } from "./measure.js"
import type { Progress } from "./progress.js"
import type { Call, Charge, ScenarioResult, Side } from "./scenario.js"

/**
 * A side's run: its result, the server's record and how long it took.
 *
 * @since 0.1.0
 * @category models
 */
export interface Ran<A> {
  readonly result: A
  readonly calls: ReadonlyArray<Call>
  readonly startedAt: number
  readonly wallMillis: number
}

/**
 * Runs `body` against a FakeAnthropic of its own, showing its calls as they come.
 *
 * @since 0.1.0
 * @category constructors
 */
export const side = <A, E, R>(
  progress: Progress,
  label: string,
  server: FakeAnthropic.Options,
  body: (fake: FakeAnthropic.FakeAnthropicService, startedAt: number) => Effect.Effect<A, E, R>
): Effect.Effect<Ran<A>, E, R> =>
  Effect.scoped(
    Effect.gen(function* () {
      const fake = yield* Effect.orDie(FakeAnthropic.make(server))
      const startedAt = yield* Clock.currentTimeMillis
      const calls = Effect.map(fake.requests, (all) => all.length)
      const result = yield* progress.track(label, calls, body(fake, startedAt))
      const wallMillis = (yield* Clock.currentTimeMillis) - startedAt
      // Aborted requests end when the server notices the closed connection: wait for it, briefly.
      yield* Effect.timeout(fake.awaitIdle, Duration.seconds(2)).pipe(Effect.ignore)
      return { result, calls: callsOf(yield* fake.requests, startedAt), startedAt, wallMillis }
    })
  )

/**
 * The naive fleet's client: the SDK with its defaults, and the charges of the answers it got.
 *
 * @since 0.1.0
 * @category models
 */
export interface Naive {
  readonly complete: (request: CompletionRequest) => Promise<number>
  readonly stream: (request: CompletionRequest) => Promise<number>
  readonly charges: ReadonlyArray<Charge>
}

/**
 * A naive client of `fake`; each call resolves with what its answer cost.
 *
 * @since 0.1.0
 * @category constructors
 */
export const naive = (fake: FakeAnthropic.FakeAnthropicService, pricing: PricingService, startedAt: number): Naive => {
  const sdk = new Anthropic({ apiKey: fake.apiKey, baseURL: fake.baseURL, logLevel: "off" })
  const charges: Array<Charge> = []
  const charge = (model: string, usage: Anthropic.Usage) => {
    const usd = Effect.runSync(
      pricing.cost(model, {
        inputTokens: usage.input_tokens,
        outputTokens: usage.output_tokens,
        cacheCreationInputTokens: usage.cache_creation_input_tokens ?? 0,
        cacheReadInputTokens: usage.cache_read_input_tokens ?? 0
      })
    )
    charges.push({ at: Date.now() - startedAt, usd })
    return usd
  }
  const params = (r: CompletionRequest) => ({
    model: r.model,
    max_tokens: r.maxTokens,
    messages: r.messages.map((m) => ({ role: m.role, content: typeof m.content === "string" ? m.content : "" }))
  })
  return {
    complete: async (r) => charge(r.model, (await sdk.messages.create(params(r))).usage),
    stream: async (r) => charge(r.model, (await sdk.messages.stream(params(r)).finalMessage()).usage),
    charges
  }
}

/**
 * What a guarded side returns: its agents' outcome and every event the guards published.
 *
 * @since 0.1.0
 * @category models
 */
export interface GuardedRun<A> {
  readonly result: A
  readonly events: ReadonlyArray<GuardEvent>
}

// Large enough that no event of a scenario is dropped before it is read at the end.
const eventCapacity = 1_000_000

/**
 * Runs `body` through fleetguard against `fake`, with guards of its own.
 *
 * @since 0.1.0
 * @category constructors
 */
export const guarded = <A, E>(
  fake: FakeAnthropic.FakeAnthropicService,
  guards: GuardsOptions,
  body: Effect.Effect<A, E, LlmClient | GuardServices>
): Effect.Effect<GuardedRun<A>, E> =>
  Effect.gen(function* () {
    const events = yield* Events.subscribe
    const result = yield* body
    return { result, events: Chunk.toReadonlyArray(yield* Queue.takeAll(events)) }
  }).pipe(
    Effect.provide(
      LlmClient.layer.pipe(
        Layer.provideMerge(Guards.layer(guards)),
        Layer.provideMerge(AnthropicProvider.layer({ apiKey: Redacted.make(fake.apiKey), baseURL: fake.baseURL })),
        Layer.provideMerge(GuardEvents.layer(eventCapacity)),
        Layer.orDie
      )
    ),
    Effect.scoped
  )

/** A naive side as the tables show it: charged what its answers reported. */
const naiveSide = (ran: Ran<{ readonly charges: ReadonlyArray<Charge> }>): Side => ({
  calls: ran.calls,
  charges: ran.result.charges,
  spentUsd: spent(ran.result.charges),
  wallMillis: ran.wallMillis
})

/** A guarded side as the tables show it: charged what its calls were settled at. */
const guardedSide = (ran: Ran<GuardedRun<unknown>>): Side => {
  const charges = settled(ran.result.events, ran.startedAt)
  return { calls: ran.calls, charges, spentUsd: spent(charges), wallMillis: ran.wallMillis }
}

/**
 * A scenario's result from its two runs: the guarded side's pauses and refusals next to its figures.
 *
 * @since 0.1.0
 * @category constructors
 */
export const result = (
  about: Pick<ScenarioResult, "name" | "title" | "setup" | "lanes">,
  rows: (naive: Side, guarded: Side) => ScenarioResult["rows"],
  naiveRun: Ran<{ readonly charges: ReadonlyArray<Charge> }>,
  guardedRun: Ran<GuardedRun<unknown>>
): ScenarioResult => {
  const [n, g] = [naiveSide(naiveRun), guardedSide(guardedRun)]
  return {
    ...about,
    rows: rows(n, g),
    refused: refusals(guardedRun.result.events),
    pauses: pauses(guardedRun.result.events),
    limitUsd: guards.budget.limitUsd,
    naive: n,
    guarded: g
  }
}
