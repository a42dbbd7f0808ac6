import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { Backend, Budget, type Reservation, type WithReservationOptions } from "../src/index.js"

describe("Budget", () => {
  it.effect("fails the layer on bad options, naming the option", () =>
    Effect.gen(function* () {
      const cases = [
        [{ limitUsd: 0 }, "limitUsd"],
        [{ limitUsd: Number.NaN }, "limitUsd"],
        [{ limitUsd: 10, alertAt: 0 }, "alertAt"],
        [{ limitUsd: 10, alertAt: 1.5 }, "alertAt"],
        [{ limitUsd: 10, perAgentLimitUsd: 11 }, "perAgentLimitUsd"],
        [{ limitUsd: 10, perAgentLimitUsd: -1 }, "perAgentLimitUsd"]
      ] as const
      for (const [options, option] of cases) {
        const error = yield* Effect.flip(Budget.make(options))
        expect(error).toMatchObject({ _tag: "InvalidOption", option })
      }
      expect((yield* Budget.make({ limitUsd: 10, alertAt: 1 })).perAgentLimitUsd).toBe(2)
    })
  )

  describe("layerConfig", () => {
    const fromEnv = (env: Record<string, string>) =>
      Effect.withConfigProvider(
        Effect.flatMap(Effect.provide(Budget.snapshot, Budget.layerConfig()), Effect.succeed),
        ConfigProvider.fromMap(new Map(Object.entries(env)))
      )

    it.effect("reads FLEETGUARD_BUDGET_USD, FLEETGUARD_AGENT_BUDGET_USD and FLEETGUARD_ALERT_AT", () =>
      Effect.gen(function* () {
        const snap = yield* fromEnv({
          FLEETGUARD_BUDGET_USD: "25",
          FLEETGUARD_AGENT_BUDGET_USD: "5",
          FLEETGUARD_ALERT_AT: "0.5"
        })
        expect(snap).toMatchObject({ limitUsd: 25, perAgentLimitUsd: 5, alertAt: 0.5 })
      })
    )

    it.effect("fails naming the variable and what it expected", () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [Record<string, string>, string]> = [
          [{}, "FLEETGUARD_BUDGET_USD"],
          [{ FLEETGUARD_BUDGET_USD: "ten" }, "FLEETGUARD_BUDGET_USD"],
          [{ FLEETGUARD_BUDGET_USD: "-3" }, "FLEETGUARD_BUDGET_USD"],
          [{ FLEETGUARD_BUDGET_USD: "10", FLEETGUARD_ALERT_AT: "2" }, "FLEETGUARD_ALERT_AT"],
          [{ FLEETGUARD_BUDGET_USD: "10", FLEETGUARD_AGENT_BUDGET_USD: "20" }, "FLEETGUARD_AGENT_BUDGET_USD"]
        ]
        for (const [env, variable] of cases) {
          const error = yield* Effect.flip(fromEnv(env))
          expect(String(error)).toContain(variable)
        }
        const negative = yield* Effect.flip(fromEnv({ FLEETGUARD_BUDGET_USD: "-3" }))
        expect(String(negative)).toContain("must be a positive number")
      })
    )
  })
})

describe("Budget: commit and release take only this budget's reservations", () => {
  const notShaped = {
    _tag: "InvalidAmount",
    field: "reservation",
    reason: "must be a reservation made by Budget.reserve"
  }
  const notMadeHere = { _tag: "InvalidAmount", field: "reservation", reason: "was not made by this budget" }
  const throwing = {
    id: 0,
    agentId: "a",
    get usd(): number {
      throw new Error("getter")
    }
  }
  const revoked = Proxy.revocable({}, {})
  revoked.revoke()

  it.effect(
    "anything not shaped as a reservation, a forged one, another budget's: InvalidAmount, nothing settled",
    () =>
      Effect.gen(function* () {
        const budget = yield* Budget.make({ limitUsd: 10, perAgentLimitUsd: 10 })
        const other = yield* Budget.make({ limitUsd: 10, perAgentLimitUsd: 10 })
        const held = yield* budget.reserve("a", 1)
        const elsewhere = yield* other.reserve("a", 1)
        const cases: ReadonlyArray<readonly [unknown, object]> = [
          [null, notShaped],
          [undefined, notShaped],
          ["r", notShaped],
          [{ id: 0 }, notShaped],
          [{ id: 1.5, agentId: "a", usd: 1 }, notShaped],
          [throwing, notShaped],
          [revoked.proxy, notShaped],
          [{ id: held.id, agentId: "a", usd: 1 }, notMadeHere],
          [{ id: 99, agentId: "a", usd: 1 }, notMadeHere],
          [elsewhere, notMadeHere]
        ]
        for (const [value, error] of cases) {
          const forged = value as Reservation
          expect(yield* Effect.flip(budget.commit(forged, 0.5))).toMatchObject(error)
          expect(yield* Effect.flip(budget.release(forged))).toMatchObject(error)
        }
        expect(yield* budget.snapshot).toMatchObject({ spentUsd: 0, reservedUsd: 1 })
        // Its own reservation, and a copy of it, settle; a second settlement changes nothing.
        yield* budget.commit({ ...held }, 0.5)
        yield* budget.release(held)
        yield* budget.commit(held, 3)
        expect(yield* budget.snapshot).toMatchObject({ spentUsd: 0.5, reservedUsd: 0 })
        expect(yield* other.snapshot).toMatchObject({ spentUsd: 0, reservedUsd: 1 })
      })
  )

  it("checkReservation copies the fields once and never throws", () => {
    expect(Backend.checkReservation(throwing)).toMatchObject({ _tag: "Left", left: notShaped })
    expect(Backend.checkReservation(revoked.proxy)).toMatchObject({ _tag: "Left", left: notShaped })
    const given = { id: 3, agentId: "a", usd: 1 }
    const checked = Backend.checkReservation(given)
    if (checked._tag === "Left") throw new Error("refused a reservation")
    expect(checked.right).toEqual(given)
    expect(checked.right).not.toBe(given)
  })
})

describe("Budget.withReservation: options it cannot use are a typed error", () => {
  const getter = (key: string) =>
    Object.defineProperty({ usd: 1, actualUsd: () => 0 }, key, {
      get: () => {
        throw new Error("getter")
      },
      enumerable: true
    })
  const cases: ReadonlyArray<readonly [string, unknown, string]> = [
    ["null", null, "options"],
    ["undefined", undefined, "options"],
    ["a number", 5, "options"],
    ["no actualUsd", { usd: 1 }, "actualUsd"],
    ["actualUsd not a function", { usd: 1, actualUsd: 0.5 }, "actualUsd"],
    ["failureUsd not a function", { usd: 1, actualUsd: () => 0, failureUsd: "0" }, "failureUsd"],
    ["usd not a number", { usd: "1", actualUsd: () => 0 }, "usd"],
    ["agentId not a string", { usd: 1, actualUsd: () => 0, agentId: 7 }, "agentId"],
    ["usd behind a throwing getter", getter("usd"), "usd"],
    ["actualUsd behind a throwing getter", getter("actualUsd"), "actualUsd"],
    [
      "a Proxy whose traps throw",
      new Proxy(
        {},
        {
          getOwnPropertyDescriptor: () => {
            throw new Error("trap")
          }
        }
      ),
      "options"
    ]
  ]
  for (const [what, options, field] of cases) {
    it.effect(`${what}: InvalidAmount naming ${field}; nothing reserved or run`, () =>
      Effect.gen(function* () {
        let ran = false
        const guarded = Budget.withReservation(options as WithReservationOptions<void>)(
          Effect.sync(() => {
            ran = true
          })
        )
        expect(yield* Effect.flip(guarded)).toMatchObject({ _tag: "InvalidAmount", field })
        expect(ran).toBe(false)
        expect(yield* Budget.snapshot).toMatchObject({ spentUsd: 0, reservedUsd: 0 })
      }).pipe(Effect.provide(Budget.layer({ limitUsd: 10 })))
    )
  }
})
