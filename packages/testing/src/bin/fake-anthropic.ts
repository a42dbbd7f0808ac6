/**
 * Runs FakeAnthropic on its own until SIGINT, for demos and manual checks:
 *
 *   npx tsx packages/testing/src/bin/fake-anthropic.ts [--port N]
 *
 * @since 0.1.0
 */

import type { ServeError } from "@effect/platform/HttpServerError"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect, Layer } from "effect"
import { defaultApiKey, FakeAnthropic, layer } from "../FakeAnthropic.js"

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
    Console.log(`FakeAnthropic listening on ${fake.baseURL}\nAPI key: ${defaultApiKey}\nCtrl-C to stop.`)
  )
)

const inUse = (error: ServeError) =>
  typeof error.cause === "object" && error.cause !== null && "code" in error.cause && error.cause.code === "EADDRINUSE"

const port = portArgument(process.argv.slice(2))

NodeRuntime.runMain(
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
