#!/usr/bin/env node
/**
 * Runs FakeAnthropic on its own until Ctrl-C (SIGINT) or SIGTERM, for demos and manual checks:
 *
 *   npx fake-anthropic [--port N]        where @fleetguard/testing is installed
 *
 * @module
 * @since 0.1.0
 */

import type { ServeError } from "@effect/platform/HttpServerError"
import { makeRunMain } from "@effect/platform/Runtime"
import { Console, Effect, Layer } from "effect"
import { FakeAnthropic, layer } from "../FakeAnthropic.js"

const portArgument = (argv: ReadonlyArray<string>): number | undefined => {
  const at = argv.indexOf("--port")
  if (at < 0) return undefined
  const port = Number(argv[at + 1])
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error("usage: fake-anthropic [--port N]  (0 ≤ N ≤ 65535)")
    process.exit(2)
  }
  return port
}

const announce = Layer.effectDiscard(
  Effect.flatMap(FakeAnthropic, (fake) =>
    Console.log(`FakeAnthropic listening on ${fake.baseURL}\nAPI key: ${fake.apiKey}\nCtrl-C to stop.`)
  )
)

const inUse = (error: ServeError) =>
  typeof error.cause === "object" && error.cause !== null && "code" in error.cause && error.cause.code === "EADDRINUSE"

// A signal interrupts the server, which closes its connections; a failure is reported by makeRunMain's
// teardown. (@effect/platform-node's runMain does the same, but @fleetguard/testing does not depend on it.)
const runMain = makeRunMain(({ fiber, teardown }) => {
  const stop = () => fiber.unsafeInterruptAsFork(fiber.id())
  process.once("SIGINT", stop).once("SIGTERM", stop)
  fiber.addObserver((exit) => {
    process.off("SIGINT", stop).off("SIGTERM", stop)
    teardown(exit, (code) => {
      if (code !== 0) process.exitCode = code
    })
  })
})

const port = portArgument(process.argv.slice(2))

runMain(
  Layer.launch(announce.pipe(Layer.provide(layer({ port })))).pipe(
    // What the user can fix, in one line; anything else is reported in full.
    Effect.catchIf(inUse, () =>
      Effect.zipRight(
        Console.error(`fake-anthropic: port ${port} is already in use; pick another with --port N (0: any free port)`),
        Effect.sync(() => {
          process.exitCode = 1
        })
      )
    )
  )
)
