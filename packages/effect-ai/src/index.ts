/**
 * fleetguard's guards around @effect/ai's `LanguageModel`.
 *
 * @packageDocumentation
 * @since 0.1.0
 */
export * as GuardedLanguageModel from "./GuardedLanguageModel.js"
