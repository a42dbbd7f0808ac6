/**
 * @fleetguard/testing: test doubles for fleetguard.
 *
 * @packageDocumentation
 * @since 0.1.0
 */
export * as FakeAnthropic from "./FakeAnthropic.js"
export * as RedisServer from "./RedisServer.js"
export * as TestProvider from "./TestProvider.js"
