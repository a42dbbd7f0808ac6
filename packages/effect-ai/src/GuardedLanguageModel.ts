/**
 * GuardedLanguageModel: every fleetguard guard around @effect/ai's `LanguageModel`. Provided over
 * any model layer (and the guards), it replaces the `LanguageModel` in context, so that each
 * `generateText`, `generateObject` and `streamText` passes the depth check, reserves an upper-bound
 * estimate, waits at the shared rate-limit gate, takes a permit, runs tracked by the breaker (a trip
 * interrupts it, aborting its HTTP request), is retried through fleetguard's one coordination point,
 * and is settled from the usage the response reports, priced as the model it reports.
 *
 * The estimate reads the call's model and `max_tokens` from the provider's config in context — for
 * @effect/ai-anthropic, `AnthropicLanguageModel.withConfigOverride({ model, max_tokens })`, which
 * is also what is sent; without `max_tokens`, 4096 (the provider's default). No model there, or no
 * price for it: `UnknownModel`, before any request.
 *
 * Failures keep @effect/ai's types: fleetguard's own (a guard's refusal, or what the provider
 * answered once retries are done) come as an `AiError.UnknownError` whose `cause` is the fleetguard
 * error — `guardError` gives it back, tag and all. Any other failure (a tool's, an object that did
 * not decode) is the model's, as it was.
 *
 * @module
 * @since 0.1.0
 */
import { type AiError, LanguageModel, type Prompt, type Response, type Tool, type Toolkit } from "@effect/ai"
import type { Budget, CircuitBreaker, Concurrency, Depth, LlmError, Pricing } from "@fleetguard/core"
import { InvalidRequest, LlmClient, LlmProvider } from "@fleetguard/core"
import { type Context, Effect, Either, Layer, Mailbox, type SchemaAST, Stream } from "effect"
import * as Calls from "./internal/calls.js"
import { callConfig } from "./internal/config.js"
import * as Errors from "./internal/errors.js"
import { decodePrompt, estimateRequest, toolDefinition } from "./internal/request.js"

/**
 * The fleetguard error an `AiError` from a guarded call carries (`BudgetExceeded`, `RateLimited`,
 * `CircuitOpen`…), so that it can be caught by its tag; any other error as it is. For
 * `Effect.mapError` and `Stream.mapError`.
 *
 * @since 0.1.0
 * @category errors
 */
export const guardError: <E>(error: E) => E | LlmError = Errors.guardError

/** What the estimate reads of a call's options: the prompt, and the tools sent with it. */
interface CallOptions {
  readonly prompt: Prompt.RawInput
  readonly toolkit?: unknown
  /** generateObject's schema and the name of the tool it is sent as. */
  readonly schema?: { readonly ast: SchemaAST.AST }
  readonly objectName?: string | undefined
}

const isToolkit = (u: unknown): u is Toolkit.WithHandler<Record<string, Tool.Any>> =>
  typeof u === "object" && u !== null && "tools" in u && typeof u.tools === "object" && u.tools !== null

/** The tools `options` sends, as JSON: its toolkit's, and the one generateObject asks the model to call. */
const toolsOf = (toolkit: unknown, options: CallOptions): Either.Either<ReadonlyArray<string>, InvalidRequest> =>
  Either.all([
    ...Object.values(isToolkit(toolkit) ? toolkit.tools : {}).map((tool) =>
      toolDefinition(tool.name, tool.description, tool.parametersSchema.ast, `toolkit.${tool.name}`)
    ),
    ...(options.schema === undefined
      ? []
      : [toolDefinition(options.objectName ?? "generateObject", undefined, options.schema.ast, "schema")])
  ])

/**
 * Every failure @effect/ai declares includes `AiError`: an `AiError` added to a call's failures is
 * one it declares already, though TypeScript cannot see it through the conditional type.
 */
const declared = <A, E, R>(effect: Effect.Effect<A, E | AiError.AiError, R>) => effect as Effect.Effect<A, E, R>
const declaredStream = <A, E, R>(stream: Stream.Stream<A, E | AiError.AiError, R>) => stream as Stream.Stream<A, E, R>

/** LlmClient's transport. Never called: this client only guards the calls @effect/ai makes itself. */
const callsNothing = LlmProvider.of({
  complete: () =>
    Effect.fail(new InvalidRequest({ errorType: "client_error", message: "GuardedLanguageModel sends nothing itself" }))
})

/**
 * Builds a `LanguageModel` that runs each call of the one in context under every guard, with the
 * guards in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.gen(function* () {
  const model = yield* LanguageModel.LanguageModel
  const client = yield* Effect.provideService(LlmClient.make, LlmProvider, callsNothing)

  /**
   * The call's options as they will be sent (the prompt decoded, a toolkit given as an effect run
   * once, here) and the request it is estimated from. Failures: the toolkit's, or fleetguard's.
   */
  const prepare = <O extends CallOptions, E, R>(options: O, context: Context.Context<R>, method: string) =>
    Effect.flatMap(
      Effect.isEffect(options.toolkit)
        ? // A toolkit effect's failures and needs are the call's: @effect/ai's ExtractError and ExtractContext include them.
          Effect.provide(options.toolkit as Effect.Effect<unknown, E, R>, context)
        : Effect.succeed(options.toolkit),
      (toolkit) =>
        Either.mapLeft(
          Either.gen(function* () {
            const config = yield* callConfig(context)
            const prompt = yield* decodePrompt(options.prompt)
            const request = yield* estimateRequest(prompt, yield* toolsOf(toolkit, options), config)
            // @effect/ai takes a resolved toolkit wherever it takes one to resolve.
            return { request, options: { ...options, prompt, toolkit } }
          }),
          (error) => Errors.toAiError(error, method)
        )
    )

  /** generateText and generateObject: `run` is the model's, called once per attempt with the prepared options. */
  const generate = <
    O extends CallOptions,
    A extends { readonly content: ReadonlyArray<{ readonly type: string }> },
    E,
    R
  >(
    method: string,
    options: O,
    run: (options: O) => Effect.Effect<A, E, R>
  ): Effect.Effect<A, E, R> =>
    declared(
      Effect.flatMap(Effect.context<R>(), (context) =>
        prepare<O, E, R>(options, context, method).pipe(
          Effect.flatMap(({ request, options }) =>
            Effect.mapError(
              client.guard(request, Calls.generated(Effect.provide(run(options), context), request)),
              (error) => Errors.toAiError(error, method)
            )
          ),
          Effect.flatMap((outcome) => outcome.result)
        )
      )
    )

  /**
   * streamText: the guarded call runs in a fiber scoped to the caller's stream, delivering parts as
   * they come; when the consumer stops (or is interrupted) the scope closes, the call is interrupted
   * (aborting its request) and settled on what it received.
   */
  const stream = <O extends CallOptions, Tools extends Record<string, Tool.Any>, E, R>(
    options: O,
    run: (options: O) => Stream.Stream<Response.StreamPart<Tools>, E, R>
  ): Stream.Stream<Response.StreamPart<Tools>, E, R> =>
    declaredStream(
      Stream.unwrapScoped(
        Effect.gen(function* () {
          const context = yield* Effect.context<R>()
          const prepared = yield* prepare<O, E, R>(options, context, "streamText")
          const mailbox = yield* Mailbox.make<Response.StreamPart<Tools>, E | AiError.AiError>()
          const parts = Stream.provideContext(run(prepared.options), context)
          yield* client
            .guard(
              prepared.request,
              Calls.streamed(parts, prepared.request, (delivered) => mailbox.offerAll(delivered))
            )
            .pipe(
              Effect.mapError((error) => Errors.toAiError(error, "streamText")),
              Effect.flatMap((outcome) => outcome.result),
              Mailbox.into(mailbox),
              Effect.forkScoped
            )
          return Mailbox.toStream(mailbox)
        })
      )
    )

  return LanguageModel.LanguageModel.of({
    generateText: (options) => generate("generateText", options, (prepared) => model.generateText(prepared)),
    generateObject: (options) => generate("generateObject", options, (prepared) => model.generateObject(prepared)),
    streamText: (options) => stream(options, (prepared) => model.streamText(prepared))
  })
})

/**
 * The guarded `LanguageModel`, over the one in context and the guards.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  LanguageModel.LanguageModel,
  never,
  LanguageModel.LanguageModel | Concurrency | Budget | Depth | CircuitBreaker | Pricing
> = Layer.effect(LanguageModel.LanguageModel, make)
