/**
 * What a guard reads of the running fiber, read synchronously: on a hot path each `Clock`,
 * `FiberRef` or service lookup done as an effect of its own costs an interpreter step and an
 * allocation (about 1 µs each, measured), where reading them from the fiber costs a map lookup.
 */
import { type Cause, Clock, Context, Effect, Exit, type Fiber, Option } from "effect"

type AnyFiber = Fiber.RuntimeFiber<unknown, unknown>

/** The fiber's clock (TestClock in tests). */
export const nowOf = (fiber: AnyFiber): number =>
  Context.get(fiber.currentDefaultServices, Clock.Clock).unsafeCurrentTimeMillis()

/**
 * `f` applied to the service `tag` names, read from the fiber's context in the same step; a missing
 * service fails as `Effect.flatMap(tag, f)` would.
 */
export const withService = <I, S, A, E, R>(
  tag: Context.Tag<I, S>,
  f: (service: S) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R | I> =>
  Effect.withFiberRuntime((fiber) => {
    const service = Context.getOption(fiber.currentContext as Context.Context<I>, tag)
    return Option.isSome(service) ? f(service.value) : Effect.flatMap(tag, f)
  })

/** Lifts an `uninterruptibleMask`'s mask for one effect. */
export type Restore = <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>

/**
 * `Effect.matchCauseEffect`, but an effect that is already a success (an `Exit` a fast path
 * answered) goes straight on: no interpreter step for the common case of a hot path.
 */
export const matchNow = <A, E, R, B, E2, R2, C, E3, R3>(
  self: Effect.Effect<A, E, R>,
  onFailure: (cause: Cause.Cause<E>) => Effect.Effect<B, E2, R2>,
  onSuccess: (a: A) => Effect.Effect<C, E3, R3>
): Effect.Effect<B | C, E2 | E3, R | R2 | R3> =>
  Exit.isExit(self) && Exit.isSuccess(self)
    ? onSuccess(self.value as A)
    : Effect.matchCauseEffect(self, { onFailure, onSuccess })

/** `Effect.flatMap`, but an effect that is already a success goes straight on (see `matchNow`). */
export const flatMapNow = <A, E, R, B, E2, R2>(
  self: Effect.Effect<A, E, R>,
  f: (a: A) => Effect.Effect<B, E2, R2>
): Effect.Effect<B, E | E2, R | R2> =>
  Exit.isExit(self) && Exit.isSuccess(self) ? f(self.value as A) : Effect.flatMap(self, f)
