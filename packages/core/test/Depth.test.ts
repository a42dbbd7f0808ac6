import { describe, expect, it } from "@effect/vitest"
import { Chunk, ConfigProvider, Effect, Exit, FastCheck as fc, Layer, Queue, Ref } from "effect"
import { Agent, Depth, DepthLimitExceeded, Events, GuardEvents, type InvalidOption } from "../src/index.js"

const withDepth = <A, E>(maxDepth: number, maxFanOut: number, self: Effect.Effect<A, E, Depth | GuardEvents>) =>
  Effect.provide(self, Layer.merge(Depth.layer({ maxDepth, maxFanOut }), GuardEvents.layer()))

describe("Depth", () => {
  it.effect.prop(
    "a self-spawning agent tree runs exactly Σ_{d<maxDepth} min(branching, maxFanOut)^d agents",
    {
      maxDepth: fc.integer({ min: 1, max: 5 }),
      maxFanOut: fc.integer({ min: 1, max: 4 }),
      branching: fc.integer({ min: 0, max: 5 })
    },
    ({ maxDepth, maxFanOut, branching }) =>
      withDepth(
        maxDepth,
        maxFanOut,
        Effect.gen(function* () {
          const ran = yield* Ref.make(0)
          const deepest = yield* Ref.make(0)
          const agent: Effect.Effect<void, InvalidOption, Depth> = Effect.gen(function* () {
            yield* Ref.update(ran, (n) => n + 1)
            const depth = yield* Depth.current
            yield* Ref.update(deepest, (d) => Math.max(d, depth))
            yield* Depth.fanOut(Array.from({ length: branching }), () => agent)
          })
          yield* agent
          let expected = 0
          for (let d = 0; d < maxDepth; d++) expected += Math.min(branching, maxFanOut) ** d
          expect(yield* Ref.get(ran)).toBe(expected)
          expect(yield* Ref.get(deepest)).toBeLessThan(maxDepth)
        })
      ),
    { fastCheck: { numRuns: 100 } }
  )

  it.effect("nested runs one level down and refuses, without running, at maxDepth", () =>
    withDepth(
      3,
      2,
      Effect.gen(function* () {
        expect(yield* Depth.current).toBe(0)
        expect(yield* Depth.nested(Depth.current)).toBe(1)
        expect(yield* Depth.nested(Depth.nested(Depth.current))).toBe(2)
        let ran = false
        const error = yield* Effect.flip(Depth.nested(Depth.nested(Depth.nested(Effect.sync(() => (ran = true))))))
        expect(error).toEqual(new DepthLimitExceeded({ depth: 3, maxDepth: 3 }))
        expect(ran).toBe(false)
        expect(yield* Depth.current).toBe(0)
        yield* Depth.check
        // A fiber already at depth 2 checked against a tighter limit of 2.
        const tighter = Effect.provide(Depth.check, Depth.layer({ maxDepth: 2, maxFanOut: 1 }))
        expect(yield* Effect.flip(Depth.nested(Depth.nested(tighter)))).toEqual(
          new DepthLimitExceeded({ depth: 2, maxDepth: 2 })
        )
      })
    )
  )

  it.effect("fanOut runs at most maxFanOut branches concurrently; a failing branch does not fail its siblings", () =>
    withDepth(
      4,
      3,
      Effect.scoped(
        Effect.gen(function* () {
          const events = yield* Events.subscribe
          const started = yield* Ref.make(0)
          const { results, dropped } = yield* Depth.fanOut([1, 2, 3, 4, 5], (n) =>
            Effect.zipRight(
              Ref.update(started, (k) => k + 1),
              n === 2 ? Effect.fail(`branch ${n}`) : Effect.succeed(n * 10)
            )
          )
          expect(dropped).toBe(2)
          expect(yield* Ref.get(started)).toBe(3)
          expect(results).toEqual([Exit.succeed(10), Exit.fail("branch 2"), Exit.succeed(30)])
          const seen = Chunk.toReadonlyArray(yield* Queue.takeAll(events))
          expect(seen).toEqual([
            new Events.FanOutTruncated({ at: 0, agentId: "default", depth: 0, requested: 5, admitted: 3, dropped: 2 })
          ])
        })
      )
    )
  )

  it.effect("fails on bad options naming the option or the variable", () =>
    Effect.gen(function* () {
      expect(yield* Effect.flip(Depth.make({ maxDepth: 0, maxFanOut: 2 }))).toMatchObject({ option: "maxDepth" })
      expect(yield* Effect.flip(Depth.make({ maxDepth: 2, maxFanOut: -1 }))).toMatchObject({ option: "maxFanOut" })
      const read = (env: Record<string, string>) =>
        Effect.withConfigProvider(
          Effect.provide(
            Effect.map(Depth, (d) => [d.maxDepth, d.maxFanOut]),
            Depth.layerConfig()
          ),
          ConfigProvider.fromMap(new Map(Object.entries(env)))
        )
      expect(yield* read({ FLEETGUARD_MAX_DEPTH: "2", FLEETGUARD_MAX_FANOUT: "5" })).toEqual([2, 5])
      expect(String(yield* Effect.flip(read({ FLEETGUARD_MAX_FANOUT: "0" })))).toContain("FLEETGUARD_MAX_FANOUT")
      expect(String(yield* Effect.flip(read({ FLEETGUARD_MAX_DEPTH: "1.5" })))).toContain("FLEETGUARD_MAX_DEPTH")
    })
  )
})

describe("Agent", () => {
  it.effect("names everything inside Agent.run, forked children included; 'default' outside", () =>
    Effect.gen(function* () {
      expect(yield* Agent.current).toBe("default")
      const seen = yield* Agent.run(
        "planner",
        Effect.all([Agent.current, Effect.forkDaemon(Agent.current).pipe(Effect.flatMap((f) => f.await))], {
          concurrency: 2
        })
      )
      expect(seen[0]).toBe("planner")
      expect(seen[1]).toEqual(Exit.succeed("planner"))
      expect(yield* Agent.run("outer", Agent.run("inner", Agent.current))).toBe("inner")
      expect(yield* Agent.current).toBe("default")
    })
  )

  it.effect("Agent.run in a pipe names the agent as the two-argument form does", () =>
    Effect.gen(function* () {
      expect(yield* Agent.current.pipe(Agent.run("piped"))).toBe("piped")
      expect(yield* Effect.succeed(1).pipe(Agent.run("piped"))).toBe(1)
    })
  )
})

describe("Depth.fanOut: arguments it cannot use are a typed error", () => {
  const throwingIterator = {
    *[Symbol.iterator]() {
      yield 1
      throw new Error("iterator")
    }
  }
  const revoked = Proxy.revocable([], {})
  revoked.revoke()
  const cases: ReadonlyArray<readonly [string, unknown, unknown, string]> = [
    ["null items", null, () => Effect.void, "items"],
    ["undefined items", undefined, () => Effect.void, "items"],
    ["a number as items", 3, () => Effect.void, "items"],
    ["an object as items", { length: 2 }, () => Effect.void, "items"],
    ["an iterator that throws", throwingIterator, () => Effect.void, "items"],
    ["a revoked Proxy as items", revoked.proxy, () => Effect.void, "items"],
    ["null f", [1, 2], null, "f"],
    ["an effect as f", [1, 2], Effect.void, "f"]
  ]
  for (const [what, items, f, option] of cases) {
    it.effect(`${what}: InvalidOption naming ${option}, nothing run`, () =>
      withDepth(
        3,
        4,
        Effect.gen(function* () {
          const error = yield* Effect.flip(Depth.fanOut(items as Iterable<unknown>, f as () => Effect.Effect<void>))
          expect(error).toMatchObject({ _tag: "InvalidOption", option })
        })
      )
    )
  }

  it.effect("any iterable is taken; an f that throws or answers no effect fails its own branch only", () =>
    withDepth(
      3,
      4,
      Effect.gen(function* () {
        const { results } = yield* Depth.fanOut(new Set(["a", "b", "c"]), (item) => {
          if (item === "a") throw new Error("f threw")
          return (item === "b" ? 42 : Effect.succeed(item)) as Effect.Effect<string>
        })
        expect(results.map((exit) => exit._tag)).toEqual(["Failure", "Failure", "Success"])
        expect(results[2]).toEqual(Exit.succeed("c"))
        expect((yield* Depth.fanOut("xy", (c) => Effect.succeed(c))).results).toEqual([
          Exit.succeed("x"),
          Exit.succeed("y")
        ])
      })
    )
  )
})
