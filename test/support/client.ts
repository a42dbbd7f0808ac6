/**
 * LlmClient over TestProvider and every guard, for the root suites. They live here, not in core's
 * own tests, because TestProvider is in @fleetguard/testing, which depends on core: core's tests
 * cannot use it without a cycle.
 *
 * A suite over the guards runs on both paths (`describe.each(paths)`): the in-memory guards as they
 * are, which offer a fast path (`Backend.withFastPath`), and the same guards through their methods
 * only (`Backend.methodsOnly`), as a store without a fast path is used. Both must behave the same.
 */
import {
  Backend,
  Budget,
  CircuitBreaker,
  type CompletionRequest,
  Concurrency,
  GuardEvents,
  Guards,
  type GuardsOptions,
  LlmClient,
  Pricing,
  Retry,
  type RetryOptions
} from "@fleetguard/core"
import { TestProvider } from "@fleetguard/testing"
import { Context, Layer, Option } from "effect"

export const request = (content = "hello", model = "claude-haiku-4-5"): CompletionRequest => ({
  model,
  maxTokens: 100,
  messages: [{ role: "user", content }]
})

/** A 1×1 PNG, base64: an image whose size its header says. */
export const onePixelPng =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

/** The kinds of request an agent sends: plain text, a turn that answers a tool call, an image to look at. */
export const requestKinds = ["text", "tool", "image"] as const
export type RequestKind = (typeof requestKinds)[number]

/** A request of `kind` about `content`: `tool` offers a tool and answers the call the model made of it. */
export const requestOf = (kind: RequestKind, content = "hello", model = "claude-haiku-4-5"): CompletionRequest => {
  switch (kind) {
    case "text":
      return request(content, model)
    case "tool":
      return {
        model,
        maxTokens: 100,
        tools: [
          {
            name: "search",
            description: "Searches the web",
            inputSchema: { type: "object", properties: { query: { type: "string" } }, required: ["query"] }
          }
        ],
        messages: [
          { role: "user", content },
          {
            role: "assistant",
            content: [
              { type: "text", text: "Searching." },
              { type: "tool_use", id: "toolu_1", name: "search", input: { query: content } }
            ]
          },
          {
            role: "user",
            content: [{ type: "tool_result", toolUseId: "toolu_1", content: `3 results for ${content}` }]
          }
        ]
      }
    case "image":
      return {
        model,
        maxTokens: 100,
        messages: [
          {
            role: "user",
            content: [
              { type: "image", source: { type: "base64", mediaType: "image/png", data: onePixelPng } },
              { type: "text", text: content }
            ]
          }
        ]
      }
  }
}

/** Whether `error` is a request refused before it was sent (the client's own check names the field). */
export const refusedLocally = (error: unknown): boolean =>
  typeof error === "object" && error !== null && "_tag" in error && error._tag === "InvalidRequest" && "field" in error
    ? error.field !== undefined
    : false

export const defaultGuards: GuardsOptions = {
  budget: { limitUsd: 100, perAgentLimitUsd: 100 },
  concurrency: { maxConcurrency: 5 },
  depth: { maxDepth: 3, maxFanOut: 4 },
  breaker: { failureThreshold: 10, resetAfter: "30 seconds", halfOpenMaxCalls: 2 }
}

/** `context` with the service of `tag`, if it holds one, seen through its methods only. */
const withoutFastPath =
  <I, S extends object>(tag: Context.Tag<I, S>) =>
  <A>(context: Context.Context<A>): Context.Context<A> =>
    Option.match(Context.getOption(context, tag), {
      onNone: () => context,
      onSome: (service) => Context.add(context, tag, Backend.methodsOnly(service)) as Context.Context<A>
    })

/** The guard services that may offer a fast path, each as a way to take it away. */
export const fastPathGuards = {
  budget: withoutFastPath(Budget),
  concurrency: withoutFastPath(Concurrency),
  breaker: withoutFastPath(CircuitBreaker),
  pricing: withoutFastPath(Pricing)
}

/** `layer` with each of `guards` it holds (all four unless told) seen through its methods only. */
export const methodsOnly = <A, E, R>(
  layer: Layer.Layer<A, E, R>,
  guards: ReadonlyArray<(context: Context.Context<A>) => Context.Context<A>> = Object.values(fastPathGuards)
): Layer.Layer<A, E, R> => Layer.map(layer, (context) => guards.reduce((taken, without) => without(taken), context))

/** How a path hands a layer of guards to what uses them. */
type Wrap = <A, E, R>(guards: Layer.Layer<A, E, R>) => Layer.Layer<A, E, R>

const pathOf = (name: string, wrap: Wrap) => {
  /** LlmClient over every guard, taken this way, and `provider`, with a hub of the test's own. */
  const clientOver = <P, E>(
    provider: Layer.Layer<P, E>,
    guards: Partial<GuardsOptions> = {},
    retry: RetryOptions = {}
  ) =>
    LlmClient.layer.pipe(
      Layer.provideMerge(
        Layer.mergeAll(wrap(Guards.layer({ ...defaultGuards, ...guards })), provider, Retry.layer(retry))
      ),
      Layer.provideMerge(GuardEvents.layer())
    )
  /** LlmClient over every guard, taken this way, and a scripted provider, with a hub of the test's own. */
  const client = (script: TestProvider.Script, guards: Partial<GuardsOptions> = {}, retry: RetryOptions = {}) =>
    clientOver(TestProvider.layer(script), guards, retry)
  return { name, wrap, clientOver, client }
}

export type Path = ReturnType<typeof pathOf>

export const paths: ReadonlyArray<Path> = [pathOf("fast path", (guards) => guards), pathOf("methods only", methodsOnly)]

/** The guards as Guards.layer gives them (the fast path), for suites that need not run on both. */
export const { client, clientOver } = paths[0] as Path
