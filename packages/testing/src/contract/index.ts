/**
 * @fleetguard/testing/contract: the contract suites every backend of fleetguard's guards must
 * pass. Needs `vitest` and `@effect/vitest`.
 *
 * @packageDocumentation
 * @since 0.2.0
 */
export * as Contract from "./Contract.js"
