/**
 * `fleetguard demo`: the command line of the demo in Demo.ts.
 *
 * @since 0.1.0
 */
import { Command } from "@effect/cli"
import { Console, Effect } from "effect"

/** The demo's options: none yet. */
export const options = {} as const

export const command = Command.make("demo", options, () =>
  // Loaded when the demo runs: the SDK and FakeAnthropic would add seconds to every `status`.
  Effect.flatMap(
    Effect.promise(() => import("./Demo.js")),
    (Demo) => Effect.flatMap(Demo.run(), (report) => Console.log(Demo.format(report)))
  )
).pipe(
  Command.withDescription(
    "One fleet of agents run naive, then guarded, against a local FakeAnthropic during a 429 incident: requests and spend compared (no key, no network)"
  )
)
