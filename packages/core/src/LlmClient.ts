/**
 * LlmClient: the guarded client. `complete(request)` runs the whole flow: depth check → upper-bound
 * estimate → reservation → attempts (gate → permit → breaker → provider, tracked and
 * interruptible) → coordinated retries → settlement at the real cost. Nothing leaks: whatever
 * happens, the reservation is settled and the permit given back.
 *
 * @since 0.1.0
 */

import type { Tracer } from "effect"
import { Cause, Context, Duration, Effect, Either, Exit, Layer, Metric, Option, Random, Ref, Stream } from "effect"
import * as Agent from "./Agent.js"
import { Budget, type Reservation } from "./Budget.js"
import { CircuitBreaker } from "./CircuitBreaker.js"
import { Concurrency } from "./Concurrency.js"
import { Depth } from "./Depth.js"
import type { BudgetExceeded, CircuitOpen, InvalidAmount, LlmError, ProviderError, UnknownModel } from "./Errors.js"
import { isUpstreamFailure, ProviderUnavailable, RateLimited } from "./Errors.js"
import * as Events from "./Events.js"
import * as Request from "./internal/request.js"
import * as RetryPolicy from "./internal/retry.js"
import * as Settle from "./internal/settle.js"
import { outcomeOf } from "./internal/settle.js"
import type {
  Completion,
  CompletionRequest,
  ProviderCompletion,
  ProviderStreamEvent,
  StreamPart,
  Usage
} from "./Llm.js"
import { LlmProvider } from "./LlmProvider.js"
import { Pricing } from "./Pricing.js"
import { budgetTokensFor, Retry } from "./Retry.js"

export interface LlmClientService {
  readonly complete: (request: CompletionRequest) => Effect.Effect<Completion, LlmError>
  /**
   * The same guarded call, streamed: text deltas, then the completion. A stream is retried only
   * before any of it arrived. Stopping it early aborts the request; it is charged what was generated.
   */
  readonly stream: (request: CompletionRequest) => Stream.Stream<StreamPart, LlmError>
}

/** One guarded call: `send` makes one request; a streamed call also reports its progress. */
interface Call {
  readonly send: Effect.Effect<ProviderCompletion, ProviderError>
  readonly progress: Progress | undefined
}

/** What a streamed call has received so far. */
interface Progress {
  received: boolean
  usage: Usage | undefined
  final: boolean
  bytes: number
}

/** Calls settled, tagged `outcome`: success, failure, interrupted. */
export const callsCounter = Metric.counter("fleetguard_llm_calls_total", {
  description: "LLM calls settled",
  incremental: true
})
/** Tokens used, tagged `kind`: input, output, cache_write, cache_read. */
export const tokensCounter = Metric.counter("fleetguard_llm_tokens_total", {
  description: "Tokens used by LLM calls",
  incremental: true
})
/** USD charged to the ledger for LLM calls. */
export const costCounter = Metric.counter("fleetguard_llm_cost_usd_total", { description: "USD charged for LLM calls" })
/** Calls refused by a guard, tagged `reason` (the error's tag). */
export const rejectionsCounter = Metric.counter("fleetguard_llm_rejections_total", {
  description: "LLM calls refused by a guard",
  incremental: true
})
/** Retries. */
export const retriesCounter = Metric.counter("fleetguard_llm_retries_total", {
  description: "LLM call retries",
  incremental: true
})

// Tagged once here: Metric.tagged per call would build a new metric key (and hash it) every time.
const callsByOutcome = {
  success: Metric.tagged(callsCounter, "outcome", "success"),
  failure: Metric.tagged(callsCounter, "outcome", "failure"),
  interrupted: Metric.tagged(callsCounter, "outcome", "interrupted")
}
const tokensByKind = {
  input: Metric.tagged(tokensCounter, "kind", "input"),
  output: Metric.tagged(tokensCounter, "kind", "output"),
  cache_write: Metric.tagged(tokensCounter, "kind", "cache_write"),
  cache_read: Metric.tagged(tokensCounter, "kind", "cache_read")
}
type Rejection = "BudgetExceeded" | "DepthLimitExceeded" | "CircuitOpen" | "UnknownModel"
const rejectionsByReason: Partial<Record<Rejection, Metric.Metric.Counter<number>>> = {
  BudgetExceeded: Metric.tagged(rejectionsCounter, "reason", "BudgetExceeded"),
  DepthLimitExceeded: Metric.tagged(rejectionsCounter, "reason", "DepthLimitExceeded"),
  CircuitOpen: Metric.tagged(rejectionsCounter, "reason", "CircuitOpen"),
  UnknownModel: Metric.tagged(rejectionsCounter, "reason", "UnknownModel")
}

/** The tracer every Effect program has unless one is provided (it exports nothing). */
const builtInTracer = Effect.runSync(Effect.tracer)

const tagOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : "Unknown"

export const make = Effect.gen(function* () {
  const provider = yield* LlmProvider
  const concurrency = yield* Concurrency
  const budget = yield* Budget
  const depth = yield* Depth
  const breaker = yield* CircuitBreaker
  const pricing = yield* Pricing
  const policy = yield* Retry
  const retryTokens = yield* Ref.make(
    RetryPolicy.fullTokens(budgetTokensFor(policy, concurrency.limit), policy.budgetTokenRatio)
  )

  const ceilingMillis = (attempt: number) =>
    Math.min(policy.maxDelayMillis, policy.baseDelayMillis * 2 ** Math.max(0, attempt - 1))
  const jitteredBackoff = (attempt: number) =>
    Effect.map(Random.next, (r) => RetryPolicy.backoffMillis(attempt, policy.baseDelayMillis, policy.maxDelayMillis, r))

  /** A retry-after worth honouring: finite and ≥ 0. Anything else counts as not said. */
  const askedWait = (error: RateLimited): number | undefined => {
    const millis = error.retryAfterMillis
    return millis !== undefined && Number.isFinite(millis) && millis >= 0 ? millis : undefined
  }

  // A 429 closes the gate for everyone before this call's permit is given back, for at most
  // maxPause. With no retry-after, the backoff ceiling is used unjittered: the gate does the spreading.
  const pauseOn = (error: ProviderError | CircuitOpen, attempt: number) =>
    error._tag === "RateLimited"
      ? concurrency.pauseFor(Duration.millis(askedWait(error) ?? ceilingMillis(attempt)))
      : Effect.void

  // The provider's headers said a limit is used up: close the gate before this call's permit is
  // given back, so the next call waits for the reset instead of drawing a 429.
  const pauseAfter = (completion: ProviderCompletion) => {
    const millis = completion.rateLimitResetMillis
    return millis === undefined || !(millis > 0) ? Effect.void : concurrency.pauseFor(Duration.millis(millis))
  }

  /** Whether a failed attempt may be retried: upstream, nothing handed to the caller yet, within every limit. */
  const retryable = (error: unknown, attempt: number, progress: Progress | undefined): boolean =>
    isUpstreamFailure(error) &&
    attempt < policy.maxAttempts &&
    progress?.received !== true &&
    !(error instanceof ProviderUnavailable && error.billed === true) &&
    // A provider asking for a longer wait than maxPause is not waited for: the call fails now.
    !(error instanceof RateLimited && (askedWait(error) ?? 0) > concurrency.maxPauseMillis)

  const rejected = (error: LlmError) =>
    Effect.sync(() => rejectionsByReason[error._tag as Rejection]?.unsafeUpdate(1, []))

  const unknownModel = (error: UnknownModel) => Events.rejected("UnknownModel", `model "${error.model}"`)

  const settled = (
    request: CompletionRequest,
    agentId: string,
    reservedUsd: number,
    exit: Exit.Exit<ProviderCompletion, unknown>,
    partial: Usage | undefined,
    attempts: number,
    costUsd: number,
    span: Tracer.Span | undefined
  ) => {
    const outcome = outcomeOf(exit)
    const usage = Exit.isSuccess(exit) ? exit.value.usage : partial
    callsByOutcome[outcome].unsafeUpdate(1, [])
    costCounter.unsafeUpdate(costUsd, [])
    if (usage !== undefined) {
      tokensByKind.input.unsafeUpdate(usage.inputTokens, [])
      tokensByKind.output.unsafeUpdate(usage.outputTokens, [])
      tokensByKind.cache_write.unsafeUpdate(usage.cacheCreationInputTokens, [])
      tokensByKind.cache_read.unsafeUpdate(usage.cacheReadInputTokens, [])
    }
    span?.attribute("fleetguard.attempts", attempts)
    span?.attribute("fleetguard.cost_usd", costUsd)
    return Events.publish(
      (at) =>
        new Events.CallSettled(
          {
            at,
            agentId,
            model: request.model,
            outcome,
            attempts,
            reservedUsd,
            costUsd,
            inputTokens: usage?.inputTokens ?? 0,
            outputTokens: usage?.outputTokens ?? 0,
            cacheCreationInputTokens: usage?.cacheCreationInputTokens ?? 0,
            cacheReadInputTokens: usage?.cacheReadInputTokens ?? 0,
            ...(Exit.isFailure(exit) && outcome === "failure"
              ? { error: Option.match(Cause.failureOption(exit.cause), { onNone: () => "Defect", onSome: tagOf }) }
              : {})
          },
          // Built from values this module computed: skip the schema check on the hot path.
          true
        )
    )
  }

  // Attempts and settlement of one call that holds `first`. `call.send` makes one request; a
  // streamed call also reports its progress, which decides retries and a partial charge. Each
  // attempt that owes something (sent with no answer) is charged when it ends, and a retry after
  // it reserves again — refused whole, like any reservation, when the budget cannot cover it.
  const attempts = (
    request: CompletionRequest,
    agentId: string,
    span: Tracer.Span | undefined,
    first: Reservation,
    call: Call
  ): Effect.Effect<Completion, ProviderError | CircuitOpen | BudgetExceeded | InvalidAmount> => {
    const phase: { current: Settle.Phase } = { current: "waiting" }
    const progress = call.progress
    /** The reservation the next settlement charges; undefined once settled. */
    let held: Reservation | undefined = first
    let made = 0
    let charged = 0
    const send = Settle.phased(
      Effect.suspend(() => {
        made++
        return call.send
      }),
      phase
    )

    const partial = () =>
      progress?.usage && Settle.partialUsage(progress.usage, progress.final, progress.bytes, request.maxTokens)

    // What an attempt that ended owes: its usage; a stream's reported usage when it was cut short;
    // everything when text came with no usage, or a request went out and no answer came back.
    const owed = (exit: Exit.Exit<ProviderCompletion, unknown>): Settle.Owed => {
      if (Exit.isSuccess(exit)) return Settle.cost(Effect.suspend(() => pricing.cost(request.model, exit.value.usage)))
      const usage = partial()
      if (usage !== undefined) return Settle.cost(Effect.suspend(() => pricing.cost(request.model, usage)))
      if (progress?.received === true || Settle.unanswered(Settle.failureOf(exit))) return Settle.full
      return phase.current === "started" ? Settle.full : Settle.nothing
    }

    const settleHeld = (exit: Exit.Exit<ProviderCompletion, unknown>): Effect.Effect<void> => {
      const reservation = held
      held = undefined
      return reservation === undefined
        ? Effect.void
        : Effect.map(Settle.settle(budget, reservation, owed(exit)), (usd) => {
            charged += usd
          })
    }

    // Before a retry: an attempt that owes something is charged now, and the retry holds a new
    // reservation of the same estimate. Both steps are uninterruptible, so nothing is held twice or lost.
    const renew = (error: ProviderError | CircuitOpen) =>
      owed(Exit.fail(error))._tag === "Nothing"
        ? Effect.void
        : Effect.uninterruptible(
            Effect.zipRight(
              settleHeld(Exit.fail(error)),
              Effect.map(budget.reserve(agentId, first.usd), (reservation) => {
                held = reservation
              })
            )
          )

    const attempt = (
      n: number
    ): Effect.Effect<ProviderCompletion, ProviderError | CircuitOpen | BudgetExceeded | InvalidAmount> =>
      concurrency
        .withPermit(
          Effect.tapBoth(breaker.protect(send), { onFailure: (error) => pauseOn(error, n), onSuccess: pauseAfter })
        )
        .pipe(
          Effect.tap(() => Ref.update(retryTokens, RetryPolicy.onSuccess)),
          Effect.catchIf(isUpstreamFailure, (error) =>
            // Text already handed to the caller cannot be taken back: a stream that started is not
            // retried. Nor is an answer that was billed but unreadable: its cost is this call's to settle.
            !retryable(error, n, progress)
              ? Effect.fail(error)
              : Effect.flatMap(Ref.modify(retryTokens, RetryPolicy.onFailure), (allowed) => {
                  if (!allowed) return Effect.fail(error)
                  retriesCounter.unsafeUpdate(1, [])
                  const next = Effect.suspend(() => attempt(n + 1))
                  const wait =
                    error._tag === "RateLimited" ? Effect.void : Effect.flatMap(jitteredBackoff(n), Effect.sleep)
                  return Effect.zipRight(renew(error), Effect.zipRight(wait, next))
                })
          )
        )

    return attempt(1).pipe(
      Effect.onExit((exit) =>
        Effect.flatMap(settleHeld(exit), () =>
          settled(request, agentId, first.usd, exit, partial(), made, charged, span)
        )
      ),
      Effect.map((completion): Completion => ({ ...completion, costUsd: charged }))
    )
  }

  const run = (
    request: CompletionRequest,
    agentId: string,
    span: Tracer.Span | undefined,
    call: Call
  ): Effect.Effect<Completion, LlmError> =>
    depth.check.pipe(
      Effect.zipRight(Effect.tapErrorTag(pricing.estimate(request), "UnknownModel", unknownModel)),
      Effect.flatMap((estimate) => budget.reserve(agentId, estimate)),
      Effect.flatMap((reservation) => attempts(request, agentId, span, reservation, call))
    )

  // One span per call, when a tracer is installed: with Effect's built-in tracer nothing exports
  // the span, and it measured at ~12 µs a call. No stack trace is captured (Effect.fn would, ~25 µs),
  // and attributes go on the span object: annotateCurrentSpan builds an exception when there is none.
  // The request is checked first: nothing of a malformed one is priced, reserved or sent.
  const traced = (
    name: string,
    input: CompletionRequest,
    callFor: (request: CompletionRequest) => Call
  ): Effect.Effect<Completion, LlmError> =>
    Either.match(Request.validate(input), {
      onLeft: Effect.fail,
      onRight: (request) =>
        Effect.flatMap(Effect.zip(Agent.current, Effect.tracer), ([agentId, tracer]) =>
          tracer === builtInTracer
            ? Effect.tapError(run(request, agentId, undefined, callFor(request)), rejected)
            : Effect.useSpan(
                name,
                {
                  captureStackTrace: false,
                  attributes: { "fleetguard.model": request.model, "fleetguard.agent": agentId }
                },
                (span) =>
                  Effect.withParentSpan(Effect.tapError(run(request, agentId, span, callFor(request)), rejected), span)
              )
        )
    })

  const complete = (request: CompletionRequest): Effect.Effect<Completion, LlmError> =>
    traced("LlmClient.complete", request, (checked) => ({ send: provider.complete(checked), progress: undefined }))

  // The guarded call runs in its own fiber, scoped to the stream: when the consumer stops or is
  // interrupted, the scope closes, the fiber is interrupted (aborting the request) and settled.
  const stream = (request: CompletionRequest): Stream.Stream<StreamPart, LlmError> =>
    Stream.asyncPush<StreamPart, LlmError>(
      (emit) => {
        // Pushed synchronously, a chunk of deltas at a time: the consumer never holds up the call.
        const deliver = (parts: ReadonlyArray<StreamPart>) => Effect.sync(() => emit.array(parts))
        const callFor = (checked: CompletionRequest) =>
          provider.stream === undefined ? wholeAtOnce(checked, deliver) : streamed(provider.stream(checked), deliver)
        return Effect.forkScoped(
          Effect.map(Effect.exit(traced("LlmClient.stream", request, callFor)), (exit) => {
            if (Exit.isFailure(exit)) return emit.halt(exit.cause)
            emit.single({ _tag: "Completion", completion: exit.value })
            emit.end()
          })
        )
      },
      { bufferSize: "unbounded" }
    )

  const wholeAtOnce = (
    request: CompletionRequest,
    deliver: (parts: ReadonlyArray<StreamPart>) => Effect.Effect<boolean>
  ): Call => {
    // Once the answer is handed over, its usage is known: a consumer that stops right then still pays it.
    const progress: Progress = { received: false, usage: undefined, final: false, bytes: 0 }
    const send = Effect.tap(provider.complete(request), (c) => {
      progress.usage = c.usage
      progress.final = true
      progress.received = true
      return deliver([{ _tag: "TextDelta", text: c.text }])
    })
    return { send, progress }
  }

  const streamed = (
    events: Stream.Stream<ProviderStreamEvent, ProviderError>,
    deliver: (parts: ReadonlyArray<StreamPart>) => Effect.Effect<boolean>
  ): Call => {
    const progress: Progress = { received: false, usage: undefined, final: false, bytes: 0 }
    let done: ProviderCompletion | undefined
    const send = Effect.suspend(() => {
      done = undefined
      return Stream.runForEachChunk(events, (chunk) => {
        progress.received = true
        const deltas: Array<StreamPart> = []
        for (const event of chunk) {
          switch (event._tag) {
            case "Usage":
              progress.usage = event.usage
              progress.final = event.final
              break
            case "TextDelta":
              progress.bytes += Pricing.byteLength(event.text)
              deltas.push(event)
              break
            case "Done":
              done = event.completion
          }
        }
        return deltas.length === 0 ? Effect.void : deliver(deltas)
      })
    }).pipe(
      Effect.flatMap(() =>
        done === undefined
          ? Effect.fail(new ProviderUnavailable({ message: "the provider's stream ended without a completion" }))
          : Effect.succeed(done)
      )
    )
    return { send, progress }
  }

  return { complete, stream } satisfies LlmClientService
})

export class LlmClient extends Context.Tag("@fleetguard/core/LlmClient")<LlmClient, LlmClientService>() {
  static readonly make = make
  static readonly layer: Layer.Layer<
    LlmClient,
    never,
    LlmProvider | Concurrency | Budget | Depth | CircuitBreaker | Pricing
  > = Layer.effect(LlmClient, make)
  static readonly complete = (request: CompletionRequest): Effect.Effect<Completion, LlmError, LlmClient> =>
    Effect.flatMap(LlmClient, (client) => client.complete(request))
  static readonly stream = (request: CompletionRequest): Stream.Stream<StreamPart, LlmError, LlmClient> =>
    Stream.unwrap(Effect.map(LlmClient, (client) => client.stream(request)))
}
