/**
 * The shared rate-limit gate as pure functions. While it is closed callers are given wake-up times
 * spread over a release window, so that reopening never releases every waiter in the same instant.
 */

export interface Gate {
  /** Epoch millis before which nobody passes; 0 when open. */
  readonly pausedUntil: number
  /** Wake-ups handed out since `pausedUntil` last moved. */
  readonly tickets: number
}

export const open: Gate = { pausedUntil: 0, tickets: 0 }

export const isOpen = (gate: Gate, now: number): boolean => now >= gate.pausedUntil

/** Closes the gate until `until`. A later close extends it; an earlier one never shortens it. */
export const pauseUntil = (gate: Gate, until: number): readonly [extended: boolean, Gate] =>
  until > gate.pausedUntil ? [true, { pausedUntil: until, tickets: 0 }] : [false, gate]

/**
 * The base-2 radical inverse (van der Corput): 0, 1/2, 1/4, 3/4, 1/8, … Any number of consecutive
 * tickets lands spread evenly over [0, 1), and no two tickets share an offset.
 */
export const spread = (ticket: number): number => {
  let offset = 0
  let weight = 0.5
  for (let n = ticket; n > 0; n = Math.floor(n / 2), weight /= 2) {
    if (n % 2 === 1) offset += weight
  }
  return offset
}

/**
 * Whether a caller may pass at `now`: `undefined` if so, else the time to look again. An expired
 * pause is cleared so that the open gate stays a single comparison.
 */
export const admit = (gate: Gate, now: number, windowMillis: number): readonly [number | undefined, Gate] =>
  isOpen(gate, now)
    ? [undefined, gate.pausedUntil === 0 ? gate : open]
    : [
        gate.pausedUntil + Math.floor(spread(gate.tickets) * windowMillis),
        { pausedUntil: gate.pausedUntil, tickets: gate.tickets + 1 }
      ]
