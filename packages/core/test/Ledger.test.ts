import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc, HashMap, Option } from "effect"
import * as Ledger from "../src/internal/ledger.js"

// Integer cents exercise a ledger far better than doubles, which favour 0 and extremes.
const cents = (max: number) => fc.integer({ min: 0, max }).map((c) => c * 10_000_000)

type Op =
  | { readonly _tag: "reserve"; readonly agent: number; readonly amount: number }
  | { readonly _tag: "commit"; readonly pick: number; readonly percent: number }
  | { readonly _tag: "release"; readonly pick: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ _tag: fc.constant("reserve" as const), agent: fc.integer({ min: 0, max: 4 }), amount: cents(400) }),
  fc.record({ _tag: fc.constant("commit" as const), pick: fc.nat(), percent: fc.integer({ min: 0, max: 100 }) }),
  fc.record({ _tag: fc.constant("release" as const), pick: fc.nat() })
)

const holdAmount = (ledger: Ledger.Ledger, id: number): number =>
  Option.match(HashMap.get(ledger.holds, id), { onNone: () => 0, onSome: (hold) => hold.amount })

describe("ledger", () => {
  it.prop(
    "keeps spent + reserved within both limits; spent is the sum of commits; a refusal changes nothing",
    { limit: cents(2_000).filter((n) => n > 0), ops: fc.array(op, { maxLength: 200 }) },
    ({ limit, ops }) => {
      let ledger = Ledger.make(limit, Math.floor(limit / 5), 0.8)
      const ids: Array<number> = []
      let committed = 0
      for (const o of ops) {
        if (o._tag === "reserve") {
          const [result, next] = Ledger.reserve(ledger, `agent-${o.agent}`, o.amount)
          if (result._tag === "Reserved") ids.push(result.id)
          else {
            expect(next.spent).toBe(ledger.spent)
            expect(next.reserved).toBe(ledger.reserved)
            expect(next.holds).toBe(ledger.holds)
          }
          ledger = next
        } else if (ids.length > 0) {
          // Picking settled ids too: settling twice must change nothing.
          const id = ids[o.pick % ids.length] ?? -1
          const amount = o._tag === "commit" ? Math.floor((holdAmount(ledger, id) * o.percent) / 100) : 0
          const [result, next] = Ledger.settle(ledger, id, amount)
          if (result._tag === "Settled") committed += amount
          else expect(next).toBe(ledger)
          ledger = next
        }
        expect(ledger.spent + ledger.reserved).toBeLessThanOrEqual(ledger.limit)
        let reservedByAgents = 0
        for (const [, a] of ledger.agents) {
          expect(a.spent + a.reserved).toBeLessThanOrEqual(ledger.perAgentLimit)
          reservedByAgents += a.reserved
        }
        expect(reservedByAgents).toBe(ledger.reserved)
      }
      expect(ledger.spent).toBe(committed)
    }
  )

  it("refuses whole at the fleet limit before the agent limit, and reports the first exhaustion once", () => {
    let ledger = Ledger.make(100, 60, 0.8)
    const [first, l1] = Ledger.reserve(ledger, "a", 60)
    expect(first._tag).toBe("Reserved")
    const [agent] = Ledger.reserve(l1, "a", 1)
    expect(agent).toMatchObject({ _tag: "Refused", scope: "agent", remaining: 0, firstExhaustion: false })
    const [fleet, l2] = Ledger.reserve(l1, "b", 41)
    expect(fleet).toMatchObject({ _tag: "Refused", scope: "fleet", remaining: 40, firstExhaustion: true })
    const [again] = Ledger.reserve(l2, "b", 41)
    expect(again).toMatchObject({ _tag: "Refused", firstExhaustion: false })
    ledger = l2
    expect(ledger.reserved).toBe(60)
  })

  it("admits a reservation of exactly what is left, and refuses one nanodollar more", () => {
    const [r1, l1] = Ledger.reserve(Ledger.make(1_000, 600, 1), "a", 600)
    expect(r1._tag).toBe("Reserved")
    expect(Ledger.reserve(l1, "a", 1)[0]).toMatchObject({ _tag: "Refused", scope: "agent" })
    expect(Ledger.reserve(l1, "b", 401)[0]).toMatchObject({ _tag: "Refused", scope: "fleet", remaining: 400 })
    const [r2, l2] = Ledger.reserve(l1, "b", 400)
    expect(r2._tag).toBe("Reserved")
    expect(l2.spent + l2.reserved).toBe(l2.limit)
  })

  it("fires the alert once, when exposure first reaches alertAt of the limit", () => {
    const [r1, l1] = Ledger.reserve(Ledger.make(100, 100, 0.8), "a", 79)
    expect(r1).toMatchObject({ crossedAlert: false })
    const [r2, l2] = Ledger.reserve(l1, "a", 1)
    expect(r2).toMatchObject({ crossedAlert: true })
    const [r3] = Ledger.reserve(l2, "a", 10)
    expect(r3).toMatchObject({ crossedAlert: false })
  })

  it("records a commit above its reservation in full", () => {
    const [r, l1] = Ledger.reserve(Ledger.make(100, 100, 1), "a", 10)
    const id = r._tag === "Reserved" ? r.id : -1
    const [settled, l2] = Ledger.settle(l1, id, 25)
    expect(settled).toMatchObject({ _tag: "Settled", charged: 25, hold: { amount: 10 } })
    expect(l2.spent).toBe(25)
    expect(l2.reserved).toBe(0)
  })

  it("converts USD to whole nanodollars and refuses what cannot be held exactly", () => {
    expect(Ledger.toNanos(0.1) ?? 0).toBe(100_000_000)
    expect(Ledger.toNanos(0.1 + 0.2)).toBe(300_000_000)
    expect(Ledger.toNanos(Number.POSITIVE_INFINITY)).toBeUndefined()
    expect(Ledger.toNanos(Number.NaN)).toBeUndefined()
    expect(Ledger.toNanos(1e7)).toBeUndefined()
  })
})
