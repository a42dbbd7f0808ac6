/**
 * The `fleetguard` command's pieces, for programs that want them.
 *
 * @packageDocumentation
 * @since 0.1.0
 */
export * as Demo from "./Demo.js"
