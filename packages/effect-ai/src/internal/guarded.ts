/**
 * GuardedLanguageModel's calls: each of @effect/ai's `generateText`, `generateObject` and
 * `streamText` prepared (its options as they will be sent, and the request estimated from them),
 * then run by the model under `LlmClient.completeWith`.
 */
import type { AiError, Prompt, Response, Tool, Toolkit } from "@effect/ai"
import { InvalidRequest, LlmClient, type LlmClientService, LlmProvider } from "@fleetguard/core"
import { type Context, Effect, Either, Mailbox, type SchemaAST, Stream } from "effect"
import * as Calls from "./calls.js"
import { callConfig } from "./config.js"
import * as Errors from "./errors.js"
import { decodePrompt, estimateRequest, toolDefinition } from "./request.js"

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

/** An `LlmClient` over the guards in context, for its `guard`. */
export const guardsOnly = Effect.provideService(LlmClient.make, LlmProvider, callsNothing)

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
export const generate = <
  O extends CallOptions,
  A extends { readonly content: ReadonlyArray<{ readonly type: string }> },
  E,
  R
>(
  client: LlmClientService,
  method: string,
  options: O,
  run: (options: O) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  declared(
    Effect.flatMap(Effect.context<R>(), (context) =>
      prepare<O, E, R>(options, context, method).pipe(
        Effect.flatMap(({ request, options }) =>
          Effect.mapError(
            client.completeWith(request, Calls.generated(Effect.provide(run(options), context), request)),
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
export const stream = <O extends CallOptions, Tools extends Record<string, Tool.Any>, E, R>(
  client: LlmClientService,
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
          .completeWith(
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
