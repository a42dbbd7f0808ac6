import { Effect } from "effect"

interface Waiter {
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

  tryTake(): boolean {
    if (this.inFlight >= this.limit || this.waiters.size > 0) return false
    this.inFlight++
    return true
  }

  /** Waits for a permit; interruptible. A permit granted to a waiter interrupted before it ran is passed on. */
  readonly take: Effect.Effect<void> = Effect.suspend(() => {
    if (this.tryTake()) return Effect.void
    const waiter: Waiter = { granted: false, resume: undefined }
    return Effect.async<void>((resume) => {
      waiter.resume = () => resume(Effect.void)
      this.waiters.add(waiter)
      return Effect.sync(() => {
        this.waiters.delete(waiter)
      })
    }).pipe(
      Effect.onInterrupt(() =>
        Effect.sync(() => {
          if (waiter.granted) this.release()
        })
      )
    )
  })

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
