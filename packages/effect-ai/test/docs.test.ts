// docs/effect-ai.md's example, extracted from the doc and run as written against FakeAnthropic
// (its environment given through a ConfigProvider): one copy of the code, the doc's.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { expect, it } from "@effect/vitest"
import { Budget } from "@fleetguard/core"
import { FakeAnthropic } from "@fleetguard/testing"
import { ConfigProvider, Effect, Layer } from "effect"

const doc = new URL("../../../docs/effect-ai.md", import.meta.url)
const generated = new URL("./generated/", import.meta.url)

/** The first TypeScript block under "## Example". */
const example = (markdown: string): string => {
  const section = markdown.slice(markdown.indexOf("## Example"))
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1]
  if (code === undefined) throw new Error("docs/effect-ai.md has no example")
  return code
}

/** The doc's example as a module of this package (its import of the package made relative). */
const load = Effect.promise(() => {
  mkdirSync(generated, { recursive: true })
  const file = new URL("effect-ai-example.ts", generated)
  const code = example(readFileSync(doc, "utf8")).replace('from "@fleetguard/effect-ai"', 'from "../../src/index.js"')
  writeFileSync(file, code)
  return import(file.href) as Promise<Record<string, unknown>>
})

it.effect("docs/effect-ai.md's example runs as written: guarded calls and a guarded stream, charged", () =>
  Effect.gen(function* () {
    const fake = yield* FakeAnthropic.make({ outputTokens: 5 })
    const { program, Live } = yield* load
    const env = ConfigProvider.fromMap(
      new Map([
        ["ANTHROPIC_API_KEY", fake.apiKey],
        ["ANTHROPIC_BASE_URL", fake.baseURL],
        ["FLEETGUARD_BUDGET_USD", "1"]
      ])
    )
    const run = Effect.zip(program as Effect.Effect<ReadonlyArray<string>>, Budget.snapshot).pipe(
      Effect.provide(Live as Layer.Layer<Budget>),
      Effect.provide(Layer.setConfigProvider(env))
    )
    const [results, spend] = yield* run
    expect(results).toEqual(["lorem ipsum dolor sit amet", "lorem ipsum dolor sit amet", "lorem ipsum dolor sit amet"])
    expect(spend).toMatchObject({ reservedUsd: 0 })
    expect(spend.spentUsd).toBeGreaterThan(0)
    const requests = yield* fake.requests
    expect(requests.map((r) => r.body)).toEqual(
      Array.from({ length: 3 }, () => expect.objectContaining({ model: "claude-haiku-4-5", max_tokens: 300 }))
    )
  }).pipe(Effect.scoped)
)
