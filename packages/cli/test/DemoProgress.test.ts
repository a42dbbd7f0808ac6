import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import * as Progress from "../src/internal/demo/progress.js"

const capture = () => {
  const written: Array<string> = []
  return { written, write: (text: string) => void written.push(text) }
}

describe("the demo's progress", () => {
  it.effect("without a terminal: one plain line per side when it ends, no control codes", () =>
    Effect.gen(function* () {
      const out = capture()
      let calls = 0
      const side = Effect.zipRight(
        Effect.sleep("1500 millis"),
        Effect.sync(() => ++calls)
      )
      const fiber = yield* Effect.fork(
        Progress.make(out.write, false).track(
          "storm · naive",
          Effect.sync(() => calls),
          side
        )
      )
      yield* TestClock.adjust("1500 millis")
      yield* Fiber.join(fiber)
      expect(out.written).toEqual(["  storm · naive          1 calls    1.5 s\n"])
    })
  )

  it.effect("on a terminal: the line is redrawn in place as calls come, then ended", () =>
    Effect.gen(function* () {
      const out = capture()
      let calls = 0
      const side = Effect.repeatN(
        Effect.zipRight(
          Effect.sleep("100 millis"),
          Effect.sync(() => ++calls)
        ),
        2
      )
      const fiber = yield* Effect.fork(
        Progress.make(out.write, true).track(
          "trip · guarded",
          Effect.sync(() => calls),
          side
        )
      )
      yield* TestClock.adjust("300 millis")
      yield* Fiber.join(fiber)
      expect(out.written.length).toBeGreaterThan(2)
      for (const line of out.written) expect(line.startsWith("\r\x1b[2K")).toBe(true)
      expect(out.written.at(-1)).toBe("\r\x1b[2K  trip · guarded         3 calls    0.3 s\n")
    })
  )
})
