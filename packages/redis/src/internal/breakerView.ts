/**
 * This process's view of the fleet's breaker: the newest state a script reply or a message told
 * it of (a later generation wins), and the last opening it interrupted its own fibers for. Every
 * process hears of a trip and interrupts what it tracks itself, exactly as the in-memory breaker does.
 */
import { Backend, type BreakerState } from "@fleetguard/core"
import { Effect } from "effect"
import { num, str } from "./reply.js"

/** The policy's states (`Backend.Breaker`), by the names the scripts keep them under. */
export type State = Backend.Breaker.State["_tag"]

/** A state as a script or a message gives it; anything else is read as Closed, where admission asks Redis nothing. */
export const stateOf = (u: unknown): State => {
  const s = str(u)
  return s === "Open" || s === "HalfOpen" || s === "Isolated" ? s : "Closed"
}

/** The state as users see it: Isolated is Open. */
export const publicState = (state: State): BreakerState => Backend.Breaker.publicState({ _tag: state })

/** A transition as published on the fleet's channel (scripts/breaker.ts). */
export interface Heard {
  readonly state: State
  readonly generation: number
  /** When an opening lets a probe through; undefined unless Open. */
  readonly reopenAt: number | undefined
  readonly trips: number
}

/** A message of the channel: a breaker transition, or undefined for the other guards' messages. */
export const heard = (message: string): Heard | undefined => {
  const [kind, state, generation, reopenAt, trips] = message.split(" ")
  if (kind !== "breaker") return undefined
  const s = stateOf(state)
  const open = s === "Open"
  return {
    state: s,
    generation: num(generation),
    reopenAt: open ? num(reopenAt) : undefined,
    trips: open ? num(trips) : 0
  }
}

export interface Seen {
  readonly state: State
  readonly generation: number
}

export interface View {
  readonly current: () => Seen
  /** Notes a state, unless the view knows a later one already; the gauge follows. */
  readonly observe: (state: State, generation: number) => void
  /**
   * An opening (`reopenAt` undefined: isolated), heard from a reply or a message, whichever first:
   * it interrupts what this process tracks, once per opening.
   */
  readonly trip: (generation: number, reopenAt: number | undefined, trips: number) => Effect.Effect<void>
}

export const make = (tracker: Backend.Tracker): View => {
  let seen: Seen = { state: "Closed", generation: 0 }
  let trippedAt = -1

  const observe = (state: State, generation: number) => {
    if (generation < seen.generation) return
    seen = { state, generation }
    Backend.breakerObserved(state)
  }

  const trip = (generation: number, reopenAt: number | undefined, trips: number): Effect.Effect<void> =>
    Effect.suspend(() => {
      observe(reopenAt === undefined ? "Isolated" : "Open", generation)
      if (generation <= trippedAt) return Effect.void
      trippedAt = generation
      return Backend.tripped(tracker, reopenAt, trips)
    })

  return { current: () => seen, observe, trip }
}
