/**
 * Runs FakeAnthropic on its own until SIGINT, for demos and manual checks:
 *
 *   npx tsx packages/testing/src/bin/fake-anthropic.ts [--port N]
 *
 * @since 0.1.0
 */
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

NodeRuntime.runMain(Layer.launch(announce.pipe(Layer.provide(layer({ port: portArgument(process.argv.slice(2)) })))))
