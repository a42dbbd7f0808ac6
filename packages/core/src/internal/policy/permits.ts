import { Effect } from "effect"

/** A caller parked for a permit. */
export interface Waiter {
  /** A released permit was handed to it: it holds the permit from then on. */
  granted: boolean
  resume: (() => void) | undefined
}

/**
 * A FIFO pool of permits. Effect's own Semaphore wakes every waiter on each release (they race,
 * the losers queue again), and takes even a free permit through an async boundary; here a free
 * permit is taken synchronously and a released one is handed straight to the oldest waiter.
 * Counters are plain fields: each change is one synchronous step, so fibers never see it half done.
 */
export class Permits {
  inFlight = 0
  /** Insertion-ordered, O(1) removal for a waiter that is interrupted. */
  private readonly waiters = new Set<Waiter>()

  constructor(readonly limit: number) {}

  get waiting(): number {
    return this.waiters.size
  }

  /** Takes a free permit now, unless none is free or others are already queued (FIFO). */
  tryTake(): boolean {
    if (this.inFlight >= this.limit || this.waiters.size > 0) return false
    this.inFlight++
    return true
  }

  /**
   * Parks `waiter` until a released permit is handed to it. Interruptible; the caller must call
   * `abandon` if it is interrupted, since a permit may have been handed over just before.
   */
  park(waiter: Waiter): Effect.Effect<void> {
    return Effect.async<void>((resume) => {
      waiter.resume = () => resume(Effect.void)
      this.waiters.add(waiter)
    })
  }

  /** An interrupted waiter leaves the queue; a permit it was handed goes to the next one. */
  abandon(waiter: Waiter): void {
    this.waiters.delete(waiter)
    if (waiter.granted) this.release()
  }

  release(): void {
    const next = this.waiters.values().next()
    if (next.done) {
      this.inFlight--
      return
    }
    // The permit moves to the oldest waiter: inFlight is unchanged.
    const waiter = next.value
    this.waiters.delete(waiter)
    waiter.granted = true
    waiter.resume?.()
  }
}
