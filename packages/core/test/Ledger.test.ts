import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Ledger from "../src/internal/policy/ledger.js"

// Integer cents exercise a ledger far better than doubles, which favour 0 and extremes.
const cents = (max: number) => fc.integer({ min: 0, max }).map((c) => c * 10_000_000)

type Op =
  | { readonly _tag: "reserve"; readonly agent: number; readonly amount: number }
  | { readonly _tag: "commit"; readonly pick: number; readonly percent: number }
  | { readonly _tag: "release"; readonly pick: number }

/** Agent 0 is the one outside any `Agent.run`. */
const agentName = (agent: number) => (agent === 0 ? "default" : `agent-${agent}`)

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ _tag: fc.constant("reserve" as const), agent: fc.integer({ min: 0, max: 4 }), amount: cents(400) }),
  fc.record({ _tag: fc.constant("commit" as const), pick: fc.nat(), percent: fc.integer({ min: 0, max: 100 }) }),
  fc.record({ _tag: fc.constant("release" as const), pick: fc.nat() })
)

/** Settles the hold `o` picks — settled ones too: settling twice must change nothing — at its share of the hold. */
const settlePicked = (book: Ledger.Book, ids: ReadonlyArray<number>, o: Exclude<Op, { _tag: "reserve" }>) => {
  const id = ids[o.pick % Math.max(1, ids.length)] ?? -1
  const amount = o._tag === "commit" ? Math.floor(((book.holds.get(id)?.amount ?? 0) * o.percent) / 100) : 0
  return [book.settle(id, amount), amount] as const
}

/** A ledger with the default per-agent limit: a fifth of the fleet limit. */
const bookOf = (limit: number) => new Ledger.Book(limit, Math.floor(limit / 5), 0.8)

/** A fleet limit and what is done to a ledger of it. */
const histories = { limit: cents(2_000).filter((n) => n > 0), ops: fc.array(op, { maxLength: 200 }) }

describe("ledger", () => {
  it.prop(
    "keeps spent + reserved within both limits; spent is the sum of commits; a refusal changes nothing",
    histories,
    ({ limit, ops }) => {
      const [book, ids] = [bookOf(limit), [] as number[]]
      let committed = 0
      for (const o of ops) {
        const before = book.fleet
        if (o._tag === "reserve") {
          const [result, id] = book.reserve(agentName(o.agent), o.amount)
          if (result._tag === "Reserved") ids.push(id)
          else {
            expect(book.fleet.spent).toBe(before.spent)
            expect(book.fleet.reserved).toBe(before.reserved)
          }
        } else {
          const [result, amount] = settlePicked(book, ids, o)
          if (result._tag === "Settled") committed += amount
          else expect(book.fleet).toBe(before)
        }
        expect(book.fleet.spent + book.fleet.reserved).toBeLessThanOrEqual(book.fleet.limit)
        let reservedByAgents = 0
        for (const [agentId, a] of book.accounts) {
          if (agentId !== "default") expect(a.spent + a.reserved).toBeLessThanOrEqual(book.fleet.perAgentLimit)
          reservedByAgents += a.reserved
        }
        expect(reservedByAgents).toBe(book.fleet.reserved)
      }
      expect(book.fleet.spent).toBe(committed)
    }
  )

  it.prop(
    "a named agent is admitted iff the amount fits the fleet and its own limit; the default agent iff it fits the fleet",
    histories,
    ({ limit, ops }) => {
      const [book, ids] = [bookOf(limit), [] as number[]]
      for (const o of ops) {
        if (o._tag !== "reserve") {
          settlePicked(book, ids, o)
          continue
        }
        const agentId = agentName(o.agent)
        const account = book.account(agentId)
        const fitsFleet = o.amount <= limit - book.fleet.spent - book.fleet.reserved
        const fitsAgent = o.amount <= book.fleet.perAgentLimit - account.spent - account.reserved
        const [result, id] = book.reserve(agentId, o.amount)
        expect(result._tag === "Reserved", agentId).toBe(fitsFleet && (agentId === "default" || fitsAgent))
        if (result._tag === "Reserved") ids.push(id)
      }
    }
  )

  it("the default agent can take the whole fleet limit, and is still listed", () => {
    const book = new Ledger.Book(100, 20, 1)
    expect(book.reserve("default", 100)[0]._tag).toBe("Reserved")
    expect(book.account("default")).toEqual({ spent: 0, reserved: 100 })
    expect(book.reserve("agent-1", 1)[0]).toMatchObject({ _tag: "Refused", scope: "fleet" })
  })

  it.prop(
    "a quiet reservation is a plain one that needed no report, or nothing at all",
    { limit: cents(2_000).filter((n) => n > 0), amounts: fc.array(cents(400), { maxLength: 60 }) },
    ({ limit, amounts }) => {
      const quiet = new Ledger.Book(limit, limit, 0.8)
      const plain = new Ledger.Book(limit, limit, 0.8)
      for (const amount of amounts) {
        const id = quiet.reserveQuietly("a", amount)
        if (id === undefined) {
          expect(Ledger.reserve(quiet.fleet, quiet.account("a"), amount, true)[0]).not.toMatchObject({
            _tag: "Reserved",
            crossedAlert: false
          })
          continue
        }
        expect(plain.reserve("a", amount)).toEqual([{ _tag: "Reserved", crossedAlert: false }, id])
        expect(quiet.fleet).toEqual(plain.fleet)
      }
    }
  )

  it("refuses whole at the fleet limit before the agent limit, and reports the first exhaustion once", () => {
    const book = new Ledger.Book(100, 60, 0.8)
    expect(book.reserve("a", 60)[0]._tag).toBe("Reserved")
    expect(book.reserve("a", 1)[0]).toMatchObject({
      _tag: "Refused",
      scope: "agent",
      remaining: 0,
      firstExhaustion: false
    })
    expect(book.reserve("b", 41)[0]).toMatchObject({
      _tag: "Refused",
      scope: "fleet",
      remaining: 40,
      firstExhaustion: true
    })
    expect(book.reserve("b", 41)[0]).toMatchObject({ _tag: "Refused", firstExhaustion: false })
    expect(book.fleet.reserved).toBe(60)
  })

  it("admits a reservation of exactly what is left, and refuses one nanodollar more", () => {
    const book = new Ledger.Book(1_000, 600, 1)
    expect(book.reserve("a", 600)[0]._tag).toBe("Reserved")
    expect(book.reserve("a", 1)[0]).toMatchObject({ _tag: "Refused", scope: "agent" })
    expect(book.reserve("b", 401)[0]).toMatchObject({ _tag: "Refused", scope: "fleet", remaining: 400 })
    expect(book.reserve("b", 400)[0]._tag).toBe("Reserved")
    expect(book.fleet.spent + book.fleet.reserved).toBe(book.fleet.limit)
  })

  it("fires the alert once, when exposure first reaches alertAt of the limit", () => {
    const book = new Ledger.Book(100, 100, 0.8)
    expect(book.reserve("a", 79)[0]).toMatchObject({ crossedAlert: false })
    expect(book.reserve("a", 1)[0]).toMatchObject({ crossedAlert: true })
    expect(book.reserve("a", 10)[0]).toMatchObject({ crossedAlert: false })
  })

  it("records a commit above its reservation in full", () => {
    const book = new Ledger.Book(100, 100, 1)
    const [, id] = book.reserve("a", 10)
    expect(book.settle(id, 25)).toMatchObject({ _tag: "Settled", hold: { amount: 10 } })
    expect(book.fleet.spent).toBe(25)
    expect(book.fleet.reserved).toBe(0)
  })

  it("converts USD to whole nanodollars and refuses what cannot be held exactly", () => {
    expect(Ledger.toNanos(0.1) ?? 0).toBe(100_000_000)
    expect(Ledger.toNanos(0.1 + 0.2)).toBe(300_000_000)
    expect(Ledger.toNanos(Number.POSITIVE_INFINITY)).toBeUndefined()
    expect(Ledger.toNanos(Number.NaN)).toBeUndefined()
    expect(Ledger.toNanos(1e7)).toBeUndefined()
  })
})
