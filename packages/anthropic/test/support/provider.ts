/**
 * AnthropicProvider itself (no LlmClient in between) over the real SDK against a FakeAnthropic
 * started for the test: what it sent is what the fake recorded.
 */
import { AnthropicProvider } from "@fleetguard/anthropic"
import type { LlmProviderService } from "@fleetguard/core"
import { FakeAnthropic } from "@fleetguard/testing"
import { Effect, Redacted } from "effect"

/** The provider's calls, streamed ones included (AnthropicProvider has them all). */
export interface Streaming {
  readonly complete: LlmProviderService["complete"]
  readonly stream: NonNullable<LlmProviderService["stream"]>
  readonly streamTo: NonNullable<LlmProviderService["streamTo"]>
}

export const withProvider = <A, E>(
  options: FakeAnthropic.Options,
  self: (provider: Streaming, fake: FakeAnthropic.FakeAnthropicService) => Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    const fake = yield* FakeAnthropic.make(options)
    const { complete, stream, streamTo } = yield* AnthropicProvider.make(connectionTo(fake))
    if (stream === undefined || streamTo === undefined) return yield* Effect.die("AnthropicProvider streams")
    return yield* self({ complete, stream, streamTo }, fake)
  }).pipe(Effect.scoped)

/** The options that point the provider at `fake`. */
export const connectionTo = (fake: FakeAnthropic.FakeAnthropicService) => ({
  apiKey: Redacted.make(fake.apiKey),
  baseURL: fake.baseURL
})

/** The bodies the fake recorded for `path`, oldest first. */
export const bodiesTo = (fake: FakeAnthropic.FakeAnthropicService, path: string) =>
  Effect.map(fake.requests, (requests) => requests.filter((r) => r.path === path).map((r) => r.body))
