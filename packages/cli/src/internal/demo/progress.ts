/**
 * The demo's progress: which scenario and side is running and how many calls it has made. On a
 * terminal one line is redrawn as it goes; elsewhere (a pipe, a file, CI) each side prints one plain
 * line when it ends, with no control codes.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Fiber, Schedule } from "effect"

/**
 * Shows `self` running under `label`, with the calls `calls` counts.
 *
 * @since 0.1.0
 * @category models
 */
export interface Progress {
  readonly track: <A, E, R>(
    label: string,
    calls: Effect.Effect<number>,
    self: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E, R>
}

/** Shows nothing (tests, and callers of `Demo.run` that print their own). @since 0.1.0 @category constructors */
export const silent: Progress = { track: (_label, _calls, self) => self }

const line = (label: string, calls: number, millis: number) =>
  `  ${label.padEnd(18)} ${String(calls).padStart(5)} calls  ${(millis / 1000).toFixed(1).padStart(5)} s`

/**
 * Progress written with `write`; redrawn in place only when `isTTY`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (write: (text: string) => void, isTTY: boolean): Progress => ({
  track: (label, calls, self) =>
    Effect.gen(function* () {
      const startedAt = yield* Clock.currentTimeMillis
      const show = (end: string) =>
        Effect.flatMap(Effect.zip(calls, Clock.currentTimeMillis), ([n, now]) =>
          Effect.sync(() => write(`${isTTY ? "\r\x1b[2K" : ""}${line(label, n, now - startedAt)}${end}`))
        )
      const ticker = isTTY
        ? yield* Effect.fork(Effect.repeat(show(""), Schedule.spaced(Duration.millis(100))))
        : undefined
      const result = yield* Effect.onExit(self, () =>
        Effect.zipRight(ticker === undefined ? Effect.void : Fiber.interrupt(ticker), show("\n"))
      )
      return result
    })
})
