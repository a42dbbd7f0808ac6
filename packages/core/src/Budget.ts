/**
 * Budget: one atomic fleet ledger with per-agent caps. A call reserves an upper-bound estimate
 * before it runs and settles the real cost after; a reservation that would pass the fleet limit or
 * the agent's limit is refused whole.
 *
 * @module
 * @since 0.1.0
 */

import { type Cause, Config, Context, Effect, Layer, Schema } from "effect"
import { dual } from "effect/Function"
import * as Env from "./Env.js"
import { type BudgetExceeded, type GuardUnavailable, InvalidAmount, type InvalidOption } from "./Errors.js"
import * as Backend from "./internal/backend/budget.js"
import { Reservations } from "./internal/call/fleet.js"
import * as Settle from "./internal/call/settle.js"
import * as InMemory from "./internal/memory/budget.js"
import type * as Ledger from "./internal/policy/ledger.js"
import * as AgentId from "./internal/runtime/agentId.js"
import { withService } from "./internal/runtime/fiber.js"
import { decode, FunctionOption, layerFromConfig, Options } from "./Options.js"

/**
 * The limits of a `Budget`: the fleet's, each agent's, and when to alert.
 *
 * @since 0.1.0
 * @category models
 */
export interface BudgetOptions {
  /** The fleet limit, in USD. */
  readonly limitUsd: number
  /** Each named agent's limit (`Agent.run`; not the unnamed "default" agent's), in USD; default one fifth of `limitUsd`. */
  readonly perAgentLimitUsd?: number | undefined
  /** Fraction of the fleet limit at which the alert fires, in (0, 1]; default 0.8. */
  readonly alertAt?: number | undefined
}

/**
 * A held amount, settled exactly once by `commit` or `release` of the budget that made it (another
 * budget refuses it, as it refuses a forged one).
 *
 * @since 0.1.0
 * @category models
 */
export interface Reservation extends Ledger.Reservation {}

/**
 * One agent's spend so far: settled, and still held by reservations.
 *
 * @since 0.1.0
 * @category models
 */
export interface AgentSpend {
  readonly spentUsd: number
  readonly reservedUsd: number
}

/**
 * The ledger at one instant: its limits, and what the fleet and each agent have spent and hold.
 *
 * @since 0.1.0
 * @category models
 */
export interface BudgetSnapshot {
  readonly limitUsd: number
  readonly perAgentLimitUsd: number
  readonly alertAt: number
  readonly spentUsd: number
  readonly reservedUsd: number
  readonly agents: Readonly<Record<string, AgentSpend>>
}

/**
 * The ledger: reserve an amount before a call, commit its real cost or release it after.
 *
 * @since 0.1.0
 * @category models
 */
export interface BudgetService {
  readonly limitUsd: number
  readonly perAgentLimitUsd: number
  readonly alertAt: number
  /**
   * Holds `usd` for `agentId`, or refuses it whole. An amount that is not a number of USD ≥ 0 (or
   * an agent id that is not a string) fails `InvalidAmount` naming it.
   */
  readonly reserve: (
    agentId: string,
    usd: number
  ) => Effect.Effect<Reservation, BudgetExceeded | InvalidAmount | GuardUnavailable>
  /**
   * Settles at the actual cost, even above the reservation. A second settlement changes nothing.
   * A bad amount, a value that is not a reservation, or a reservation this budget did not make
   * fails `InvalidAmount` (`field` "actualUsd" or "reservation") and settles nothing.
   */
  readonly commit: (reservation: Reservation, actualUsd: number) => Effect.Effect<void, InvalidAmount>
  /**
   * Settles at no cost. A second settlement changes nothing; a value that is not a reservation, or
   * a reservation this budget did not make, fails `InvalidAmount` (`field` "reservation").
   */
  readonly release: (reservation: Reservation) => Effect.Effect<void, InvalidAmount>
  readonly snapshot: Effect.Effect<BudgetSnapshot>
}

/**
 * An in-memory ledger with the limits `options` give, or `InvalidOption` naming a bad one.
 */
const make = (options: BudgetOptions): Effect.Effect<BudgetService, InvalidOption> =>
  Effect.map(Backend.decodeOptions(options), InMemory.make)

/**
 * The in-memory `Budget` with the limits `options` give.
 *
 * @since 0.1.0
 * @category layers
 */
const layer = (options: BudgetOptions): Layer.Layer<Budget, InvalidOption> => Layer.effect(Budget, make(options))

/**
 * FLEETGUARD_BUDGET_USD (required), FLEETGUARD_AGENT_BUDGET_USD, FLEETGUARD_ALERT_AT (default 0.8).
 *
 * @since 0.1.0
 * @category config
 */
const config: Config.Config<BudgetOptions> = Config.all({
  limitUsd: Env.number("FLEETGUARD_BUDGET_USD"),
  perAgentLimitUsd: Env.optional(Env.number("FLEETGUARD_AGENT_BUDGET_USD")),
  alertAt: Env.optional(Env.number("FLEETGUARD_ALERT_AT"))
})

/**
 * The in-memory `Budget` with the limits read from `config` (the environment by default); a bad
 * value fails naming its variable.
 *
 * @since 0.1.0
 * @category layers
 */
const layerConfig = (options: Config.Config<BudgetOptions> = config) =>
  layerFromConfig(
    options,
    {
      limitUsd: "FLEETGUARD_BUDGET_USD",
      perAgentLimitUsd: "FLEETGUARD_AGENT_BUDGET_USD",
      alertAt: "FLEETGUARD_ALERT_AT"
    },
    layer
  )

/**
 * What `Budget.withReservation` holds, and how it settles: the cost of a success, and of a
 * failure.
 *
 * @since 0.1.0
 * @category models
 */
export interface WithReservationOptions<A> {
  /** The upper bound to hold while `self` runs. */
  readonly usd: number
  /** What a success cost. */
  readonly actualUsd: (a: A) => number
  /** Default: the running agent (`Agent.current`). */
  readonly agentId?: string | undefined
  /** What a failure cost; by default nothing, and the reservation is released. */
  readonly failureUsd?: ((cause: Cause.Cause<unknown>) => number) | undefined
}

const ReservationOptions = Options({
  // Checked by `reserve`, which names them.
  usd: Schema.Unknown,
  agentId: Schema.optional(Schema.Unknown),
  actualUsd: FunctionOption,
  failureUsd: Schema.optional(FunctionOption)
})

/** The options of `withReservation`, each read once; `InvalidAmount` naming one that is wrong. */
const reservationOptions = <A>(options: unknown): Effect.Effect<WithReservationOptions<A>, InvalidAmount> =>
  Effect.mapBoth(decode(ReservationOptions, options), {
    onFailure: (error) => new InvalidAmount({ field: error.option, value: error.value, reason: error.reason }),
    // The schema checked that the functions are functions; what they answer is settlement's to check.
    onSuccess: (decoded) => decoded as WithReservationOptions<A>
  })

/**
 * Reserves, runs `self`, and settles on every exit: a success at `actualUsd`, a failure at
 * `failureUsd` (default: released), an interruption at the full reservation, since the work may
 * have been paid for. A cost that cannot be computed is charged as the full reservation. Options
 * that are not an object, or a cost that is not a function, fail `InvalidAmount` naming the field.
 */
const withReservation: {
  <A>(
    options: WithReservationOptions<A>
  ): <A2 extends A, E, R>(
    self: Effect.Effect<A2, E, R>
  ) => Effect.Effect<A2, E | BudgetExceeded | InvalidAmount | GuardUnavailable, R | Budget>
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    options: WithReservationOptions<A>
  ): Effect.Effect<A, E | BudgetExceeded | InvalidAmount | GuardUnavailable, R | Budget>
} = dual(
  2,
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    options: WithReservationOptions<A>
  ): Effect.Effect<A, E | BudgetExceeded | InvalidAmount | GuardUnavailable, R | Budget> =>
    Effect.gen(function* () {
      const budget = yield* Budget
      const { usd, actualUsd, agentId: given, failureUsd } = yield* reservationOptions<A>(options)
      const agentId = given ?? (yield* AgentId.current)
      const costOf = (a: A) => actualUsd.call(options, a)
      const failureCost = failureUsd && ((cause: Cause.Cause<unknown>) => failureUsd.call(options, cause))
      const reservations = new Reservations(budget)
      // Reserved inside the acquisition, where interruption is masked: a reservation taken is settled.
      return yield* Effect.acquireUseRelease(
        Effect.suspend(() => reservations.reserve(agentId, usd)),
        () => self,
        (reservation, exit) => reservations.settle(reservation, Settle.owedForReservation(exit, costOf, failureCost))
      )
    })
)

/**
 * The tag of the fleet's budget, with the module's constructors, layers and accessors as static
 * members.
 *
 * @since 0.1.0
 * @category tags
 */
export class Budget extends Context.Tag("@fleetguard/core/Budget")<Budget, BudgetService>() {
  static readonly make = make
  static readonly layer = layer
  static readonly layerConfig = layerConfig
  static readonly config = config
  static readonly withReservation = withReservation
  static readonly reserve = (agentId: string, usd: number) => withService(Budget, (b) => b.reserve(agentId, usd))
  static readonly commit = (reservation: Reservation, actualUsd: number) =>
    withService(Budget, (b) => b.commit(reservation, actualUsd))
  static readonly release = (reservation: Reservation) => withService(Budget, (b) => b.release(reservation))
  static readonly snapshot: Effect.Effect<BudgetSnapshot, never, Budget> = Effect.flatMap(Budget, (b) => b.snapshot)
}
