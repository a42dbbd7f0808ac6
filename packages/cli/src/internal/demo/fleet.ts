/**
 * The two ways a scenario's agents reach the server. Naive: the Anthropic SDK as it comes (its
 * default retries), charged from the usage each answer reports. Guarded: `LlmClient` over
 * `AnthropicProvider` and `Guards`, with the guard events it published. Each side gets a
 * FakeAnthropic of its own, built from the same options. Each side's client notes when it sent
 * each request (the SDK's fetch; the provider behind the guards), changing nothing it does: the
 * server's arrival times run late under load.
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
  LlmProvider,
  type PricingService
} from "@fleetguard/core"
import { FakeAnthropic } from "@fleetguard/testing"
import { Chunk, Clock, Duration, Effect, Fiber, Layer, Queue, Redacted, Stream } from "effect"
import { callsOf, charged, pausedWaits, pauses, refusals, reported, spent, waitOf } from "./measure.js"
import type { Progress } from "./progress.js"
import type { Call, Charge, ScenarioResult, Side, Wait } from "./scenario.js"

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
 * The naive fleet's client: the SDK with its defaults; the charges of the answers it got, and the
 * waits the 429s it saw asked for.
 *
 * @since 0.1.0
 * @category models
 */
export interface Naive {
  /** The SDK's `messages.create`, charged. */
  readonly create: (params: Anthropic.MessageCreateParamsNonStreaming) => Promise<Anthropic.Message>
  readonly complete: (request: CompletionRequest) => Promise<number>
  readonly stream: (request: CompletionRequest) => Promise<number>
  readonly charges: ReadonlyArray<Charge>
  readonly waits: ReadonlyArray<Wait>
  /** When it sent each request, in millis since the side started. */
  readonly sent: ReadonlyArray<number>
}

/**
 * A naive client of `fake`: `complete` and `stream` resolve with what their answer cost, `create`
 * with the SDK's message (charged the same way). The SDK is given the global fetch, watched for when each request leaves and each 429 reaches the client.
 *
 * @since 0.1.0
 * @category constructors
 */
export const naive = (fake: FakeAnthropic.FakeAnthropicService, pricing: PricingService, startedAt: number): Naive => {
  const waits: Array<Wait> = []
  const sent: Array<number> = []
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    sent.push(Date.now() - startedAt)
    const response = await globalThis.fetch(input, init)
    if (response.status === 429) waits.push(waitOf(response.headers, Date.now() - startedAt))
    return response
  }
  const sdk = new Anthropic({ apiKey: fake.apiKey, baseURL: fake.baseURL, logLevel: "off", fetch })
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
  const create = async (p: Anthropic.MessageCreateParamsNonStreaming) => {
    const message = await sdk.messages.create(p)
    charge(p.model, message.usage)
    return message
  }
  return {
    create,
    complete: async (r) => charge(r.model, (await sdk.messages.create(params(r))).usage),
    stream: async (r) => charge(r.model, (await sdk.messages.stream(params(r)).finalMessage()).usage),
    charges,
    waits,
    sent
  }
}

/**
 * What a naive side returns: its client's record, and how many of its agents finished.
 *
 * @since 0.1.0
 * @category models
 */
export interface NaiveRun {
  readonly client: Naive
  readonly finished: number
  /** When the API answered 429, in millis since the side started. */
  readonly rateLimited?: Side["rateLimited"]
}

/**
 * What a guarded side's agents return: how many finished, and when the API answered 429.
 *
 * @since 0.1.0
 * @category models
 */
export interface GuardedOutcome {
  readonly finished: number
  readonly rateLimited?: Side["rateLimited"]
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
  /** When each request left the guards for the provider, in millis since the side started. */
  readonly sent: ReadonlyArray<number>
}

/**
 * Every event the guards publish while `self` runs, collected as they come (the guards' buffer
 * only has to hold what one burst publishes). Only the wait for the next event is interruptible:
 * an event taken is always kept.
 */
const collecting = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const queue = yield* Events.subscribe
    const events: Array<GuardEvent> = []
    const collector = yield* Effect.fork(
      Effect.uninterruptibleMask((restore) =>
        Effect.forever(Effect.flatMap(restore(Queue.take(queue)), (e) => Effect.sync(() => void events.push(e))))
      )
    )
    const result = yield* self
    yield* Fiber.interrupt(collector)
    events.push(...Chunk.toReadonlyArray(yield* Queue.takeAll(queue)))
    return { result, events }
  })

/** The provider in context, noting in `sent` when each request (each attempt) starts. */
const noting = (sent: Array<number>, startedAt: number) =>
  Layer.effect(
    LlmProvider,
    Effect.map(LlmProvider, (provider) => {
      const note = () => void sent.push(Date.now() - startedAt)
      const { stream, streamTo } = provider
      return {
        complete: (request) => Effect.zipRight(Effect.sync(note), provider.complete(request)),
        stream: stream && ((request) => Stream.concat(Stream.execute(Effect.sync(note)), stream(request))),
        streamTo: streamTo && ((request, sink) => Effect.zipRight(Effect.sync(note), streamTo(request, sink)))
      }
    })
  )

/**
 * Runs `body` through fleetguard against `fake`, with guards of its own.
 *
 * @since 0.1.0
 * @category constructors
 */
export const guarded = <A, E>(
  fake: FakeAnthropic.FakeAnthropicService,
  startedAt: number,
  guards: GuardsOptions,
  body: Effect.Effect<A, E, LlmClient | GuardServices>
): Effect.Effect<GuardedRun<A>, E> => {
  const sent: Array<number> = []
  const provider = Layer.provide(
    noting(sent, startedAt),
    AnthropicProvider.layer({ apiKey: Redacted.make(fake.apiKey), baseURL: fake.baseURL })
  )
  return Effect.map(collecting(body), (run) => ({ ...run, sent })).pipe(
    Effect.provide(
      LlmClient.layer.pipe(
        Layer.provideMerge(Guards.layer(guards)),
        Layer.provideMerge(provider),
        Layer.provideMerge(GuardEvents.layer()),
        Layer.orDie
      )
    ),
    Effect.scoped
  )
}

/** A naive side as the tables show it: what the API reported, and nothing charged (no ledger). */
const naiveSide = (ran: Ran<NaiveRun>): Side => ({
  calls: ran.calls,
  reported: ran.result.client.charges,
  reportedUsd: spent(ran.result.client.charges),
  waits: ran.result.client.waits,
  sent: ran.result.client.sent,
  finished: ran.result.finished,
  rateLimited: ran.result.rateLimited,
  wallMillis: ran.wallMillis
})

/** A guarded side as the tables show it: what the API reported, and what its ledger charged. */
const guardedSide = (ran: Ran<GuardedRun<GuardedOutcome>>): Side => {
  const { events, result } = ran.result
  const [answers, settlements] = [reported(events, ran.startedAt), charged(events, ran.startedAt)]
  return {
    calls: ran.calls,
    reported: answers,
    reportedUsd: spent(answers),
    charged: { charges: settlements, usd: spent(settlements) },
    waits: pausedWaits(events, ran.startedAt),
    sent: ran.result.sent,
    finished: result.finished,
    rateLimited: result.rateLimited,
    wallMillis: ran.wallMillis
  }
}

/**
 * A scenario's result from its two runs: the guarded side's pauses and refusals next to its figures.
 *
 * @since 0.1.0
 * @category constructors
 */
export const result = (
  about: Pick<ScenarioResult, "name" | "title" | "setup" | "agents" | "lanes" | "wasted">,
  limitUsd: number,
  rows: (naive: Side, guarded: Side) => ScenarioResult["rows"],
  naiveRun: Ran<NaiveRun>,
  guardedRun: Ran<GuardedRun<GuardedOutcome>>
): ScenarioResult => {
  const [n, g] = [naiveSide(naiveRun), guardedSide(guardedRun)]
  return {
    ...about,
    rows: rows(n, g),
    refused: refusals(guardedRun.result.events),
    pauses: pauses(guardedRun.result.events),
    limitUsd,
    naive: n,
    guarded: g
  }
}
