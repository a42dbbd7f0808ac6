/**
 * The reservations this process made and has not settled: what `commit` and `release` are checked
 * against. Ids are this process's own, counted up, so an id below the next one was made here:
 * settling it again changes nothing, and anything else is refused as not issued by this store.
 */
import { Backend, type InvalidAmount, type Reservation } from "@fleetguard/core"
import { Either } from "effect"

/** A reservation made here and not settled: its amount, and its hold in Redis (none when let through failing open). */
export interface Open {
  readonly reservation: Reservation
  readonly nanos: number
  readonly token: string | undefined
}

export interface Reservations {
  readonly open: (agentId: string, nanos: number, token: string | undefined) => Reservation
  /**
   * The open reservation `value` is; undefined for one made here and settled already; `InvalidAmount`
   * for anything this store did not make.
   */
  readonly find: (value: unknown) => Either.Either<Open | undefined, InvalidAmount>
  readonly close: (entry: Open) => void
}

export const make = (): Reservations => {
  const open = new Map<number, Open>()
  let nextId = 0
  return {
    open: (agentId, nanos, token) => {
      const reservation: Reservation = { id: nextId++, agentId, usd: Backend.usdOf(nanos) }
      open.set(reservation.id, { reservation, nanos, token })
      return reservation
    },
    find: (value) =>
      Either.flatMap(Backend.checkReservation(value), (given) => {
        const entry = open.get(given.id)
        if (entry !== undefined) {
          const same = entry.reservation.agentId === given.agentId && entry.reservation.usd === given.usd
          return same ? Either.right(entry) : Either.left(Backend.notIssued(value))
        }
        return given.id >= 0 && given.id < nextId ? Either.right(undefined) : Either.left(Backend.notIssued(value))
      }),
    close: (entry) => {
      open.delete(entry.reservation.id)
    }
  }
}
