/**
 * The `fleetguard` command's pieces, for programs that want them.
 *
 * @packageDocumentation
 * @since 0.1.0
 */
export * as Cli from "./Cli.js"
export * as Demo from "./Demo.js"
export * as Output from "./Output.js"
export * as Status from "./Status.js"
export * as Summary from "./Summary.js"
