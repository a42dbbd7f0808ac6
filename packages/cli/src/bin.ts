#!/usr/bin/env node
/**
 * The `fleetguard` command.
 *
 *   fleetguard demo    the same fleet, naive and guarded, against a local FakeAnthropic
 *
 * @since 0.1.0
 */
import { Console, Effect } from "effect"
import * as Demo from "./Demo.js"

const usage = "usage: fleetguard demo"

const [command] = process.argv.slice(2)
if (command === "--help" || command === "-h") {
  console.log(usage)
  process.exit(0)
}
if (command !== "demo") {
  console.error(command === undefined ? usage : `unknown command "${command}"\n${usage}`)
  process.exit(2)
}
await Effect.runPromise(Effect.flatMap(Demo.run(), (report) => Console.log(Demo.format(report))))
