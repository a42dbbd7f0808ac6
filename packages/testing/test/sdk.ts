/** The official SDK pointed at a FakeAnthropic, and promises as effects: what the FakeAnthropic tests share. */
import Anthropic from "@anthropic-ai/sdk"
import { Effect } from "effect"
import { FakeAnthropic } from "../src/index.js"

export type Fake = FakeAnthropic.FakeAnthropicService

export const client = (fake: Fake, apiKey: string = FakeAnthropic.defaultApiKey) =>
  new Anthropic({ apiKey, baseURL: fake.baseURL, maxRetries: 0, logLevel: "off" })

export const attempt = <A>(f: () => Promise<A>) => Effect.tryPromise({ try: f, catch: (e) => e })
export const failure = (f: () => Promise<unknown>) => Effect.flip(attempt(f))
