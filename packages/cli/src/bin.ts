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

NodeRuntime.runMain(Effect.provide(Cli.main(process.argv), NodeContext.layer), {
  // `main` answers the exit status; anything else that ends the program is a bug (1) or Ctrl-C (0).
  teardown: (exit, onExit) =>
    onExit(Exit.isSuccess(exit) ? Number(exit.value) : Cause.isInterruptedOnly(exit.cause) ? 0 : 1)
})
