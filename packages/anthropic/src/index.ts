/**
 * fleetguard's provider for the Anthropic Messages API.
 *
 * @packageDocumentation
 * @since 0.1.0
 */

export type { AnthropicProviderOptions } from "./AnthropicProvider.js"
export * as AnthropicProvider from "./AnthropicProvider.js"
