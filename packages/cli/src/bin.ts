#!/usr/bin/env node
/**
 * The `fleetguard` command.
 *
 *   fleetguard demo      the same fleet, naive and guarded, against a local FakeAnthropic
 *   fleetguard status    where the fleet stands, from its journal
 *
 * @module
 * @since 0.1.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit } from "effect"
import * as Cli from "./Cli.js"
import * as Output from "./Output.js"

const program = Cli.main(process.argv).pipe(
  Effect.provideService(Output.Output, Output.of(process.stdout, process.env)),
  Effect.provide(NodeContext.layer)
)

NodeRuntime.runMain(program, {
  // `main` answers the exit status; anything else that ends the program is a bug (1) or Ctrl-C (0).
  teardown: (exit, onExit) =>
    onExit(Exit.isSuccess(exit) ? Number(exit.value) : Cause.isInterruptedOnly(exit.cause) ? 0 : 1)
})
