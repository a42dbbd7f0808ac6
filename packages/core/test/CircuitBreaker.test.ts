import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, FastCheck as fc } from "effect"
import { CircuitBreaker } from "../src/index.js"
import * as Policy from "../src/internal/policy/breaker.js"

const settings = (over: Partial<Policy.Settings> = {}): Policy.Settings => ({
  policy: { _tag: "Consecutive", threshold: 3 },
  resetAfterMillis: 1_000,
  backoffFactor: 1,
  maxResetAfterMillis: 1_000,
  halfOpenMaxCalls: 2,
  ...over
})

type Op =
  | { readonly _tag: "admit"; readonly dt: number }
  | { readonly _tag: "end"; readonly pick: number; readonly outcome: Policy.Outcome; readonly dt: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ _tag: fc.constant("admit" as const), dt: fc.integer({ min: 0, max: 400 }) }),
  fc.record({
    _tag: fc.constant("end" as const),
    pick: fc.nat(),
    outcome: fc.constantFrom<Policy.Outcome>("success", "failure", "failure", "ignored"),
    dt: fc.integer({ min: 0, max: 400 })
  })
)

const policy: fc.Arbitrary<Policy.Policy> = fc.oneof(
  fc.record({ _tag: fc.constant("Consecutive" as const), threshold: fc.integer({ min: 1, max: 5 }) }),
  fc
    .record({
      _tag: fc.constant("FailureRate" as const),
      threshold: fc.constantFrom(0.25, 0.5, 1),
      windowSize: fc.integer({ min: 1, max: 10 })
    })
    .chain((p) => fc.integer({ min: 1, max: p.windowSize }).map((minimumCalls) => ({ ...p, minimumCalls })))
)

describe("breaker policy", () => {
  it.prop(
    "never admits while Open, runs at most halfOpenMaxCalls probes, and ignores calls from an earlier state",
    {
      policy,
      halfOpenMaxCalls: fc.integer({ min: 1, max: 3 }),
      backoffFactor: fc.constantFrom(1, 2),
      ops: fc.array(op, { maxLength: 150 })
    },
    ({ policy, halfOpenMaxCalls, backoffFactor, ops }) => {
      const s = settings({ policy, halfOpenMaxCalls, backoffFactor, maxResetAfterMillis: 4_000 })
      let state = Policy.closed(s)
      let now = 0
      const running: Array<Policy.Ticket> = []
      for (const o of ops) {
        now += o.dt
        if (o._tag === "admit") {
          const before = state
          const [admission, next] = Policy.admit(s, state, now)
          if (before._tag === "Open" && now < before.reopenAt) expect(admission._tag).toBe("Rejected")
          if (admission._tag === "Rejected" && before._tag === "Open") {
            expect(admission.retryAfterMillis).toBe(before.reopenAt - now)
          }
          if (admission._tag === "Admitted") running.push(admission.ticket)
          state = next
        } else if (running.length > 0) {
          const [ticket] = running.splice(o.pick % running.length, 1)
          if (ticket === undefined) continue
          const [transition, next] = Policy.record(s, state, ticket, o.outcome, now)
          if (ticket.generation !== state.generation) {
            expect(transition).toBeUndefined()
            expect(next).toBe(state)
          }
          if (transition?._tag === "Opened") {
            expect(transition.reopenAt - now).toBe(Policy.resetAfter(s, transition.trips))
            expect(transition.reopenAt - now).toBeLessThanOrEqual(4_000)
          }
          state = next
        }
        if (state._tag === "HalfOpen") {
          expect(state.probes).toBeLessThanOrEqual(halfOpenMaxCalls)
          const probesRunning = running.filter((t) => t.generation === state.generation && t.probe).length
          expect(state.probes).toBe(probesRunning)
        }
      }
    },
    { fastCheck: { numRuns: 300 } }
  )

  it("trips on consecutive failures; a success in between starts the count again", () => {
    const s = settings()
    const run = (outcomes: ReadonlyArray<Policy.Outcome>) =>
      outcomes.reduce<Policy.State>((state, outcome) => {
        const [admission, admitted] = Policy.admit(s, state, 0)
        return admission._tag === "Admitted" ? Policy.record(s, admitted, admission.ticket, outcome, 0)[1] : state
      }, Policy.closed(s))
    expect(run(["failure", "failure", "success", "failure", "failure"])._tag).toBe("Closed")
    expect(run(["failure", "ignored", "failure", "failure"])._tag).toBe("Open")
  })

  it("trips on the failure rate only once the window holds minimumCalls outcomes", () => {
    const s = settings({ policy: { _tag: "FailureRate", threshold: 0.5, windowSize: 4, minimumCalls: 4 } })
    const step = (state: Policy.State, outcome: Policy.Outcome) => {
      const [admission, admitted] = Policy.admit(s, state, 0)
      return admission._tag === "Admitted" ? Policy.record(s, admitted, admission.ticket, outcome, 0)[1] : state
    }
    let state = Policy.closed(s)
    for (const outcome of ["failure", "failure", "success"] as const) state = step(state, outcome)
    expect(state._tag).toBe("Closed")
    expect(step(state, "success")._tag).toBe("Open")
    // The window slides: old failures fall out.
    let sliding = Policy.closed(s)
    for (const outcome of ["failure", "success", "success", "success", "success", "failure"] as const) {
      sliding = step(sliding, outcome)
    }
    expect(sliding._tag).toBe("Closed")
  })

  it("grows the wait on each consecutive re-opening, capped", () => {
    const s = settings({ backoffFactor: 2, maxResetAfterMillis: 5_000 })
    expect([1, 2, 3, 4, 5].map((trips) => Policy.resetAfter(s, trips))).toEqual([1_000, 2_000, 4_000, 5_000, 5_000])
  })
})

describe("CircuitBreaker", () => {
  it.effect("fails on bad options naming the option, and reads its variables", () =>
    Effect.gen(function* () {
      const base = { failureThreshold: 1, resetAfter: "1 second", halfOpenMaxCalls: 1 } as const
      expect(yield* Effect.flip(CircuitBreaker.make({ ...base, failureThreshold: 0 }))).toMatchObject({
        option: "failureThreshold"
      })
      expect(yield* Effect.flip(CircuitBreaker.make({ ...base, resetAfter: Duration.infinity }))).toMatchObject({
        option: "resetAfter"
      })
      expect(
        yield* Effect.flip(
          CircuitBreaker.make({ ...base, failureRate: { threshold: 0.5, windowSize: 5, minimumCalls: 6 } })
        )
      ).toMatchObject({ option: "failureRate.minimumCalls" })
      const read = (env: Record<string, string>) =>
        Effect.withConfigProvider(
          Effect.provide(CircuitBreaker.state, CircuitBreaker.layerConfig()),
          ConfigProvider.fromMap(new Map(Object.entries(env)))
        )
      expect(yield* read({ FLEETGUARD_BREAKER_THRESHOLD: "3", FLEETGUARD_BREAKER_RESET: "10 seconds" })).toBe("Closed")
      for (const [variable, value] of [
        ["FLEETGUARD_BREAKER_THRESHOLD", "0"],
        ["FLEETGUARD_BREAKER_RESET", "soon"],
        ["FLEETGUARD_BREAKER_HALF_OPEN_CALLS", "-2"]
      ] as const) {
        expect(String(yield* Effect.flip(read({ [variable]: value })))).toContain(variable)
      }
    })
  )
})
