// docs/observability.md's wiring, with in-memory exporters: fleetguard's metrics and spans reach
// OpenTelemetry through @effect/opentelemetry.

import { readFileSync } from "node:fs"
import { NodeSdk } from "@effect/opentelemetry"
import { expect, it } from "@effect/vitest"
import { Agent, LlmClient } from "@fleetguard/core"
import { TestProvider } from "@fleetguard/testing"
import { MetricReader } from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer } from "effect"
import { client, request } from "../support/client.js"

/** A reader the test collects from when it wants to. */
class OnDemand extends MetricReader {
  protected override onShutdown() {
    return Promise.resolve()
  }
  protected override onForceFlush() {
    return Promise.resolve()
  }
}

it.live("fleetguard's metrics and spans are exported through @effect/opentelemetry", () =>
  Effect.gen(function* () {
    const spans = new InMemorySpanExporter()
    const reader = new OnDemand()
    const Telemetry = NodeSdk.layer(() => ({
      resource: { serviceName: "research-fleet" },
      spanProcessor: new SimpleSpanProcessor(spans),
      metricReader: reader
    }))
    // Read while the SDK is up: shutting it down empties the in-memory exporter.
    const { exported, collected } = yield* Effect.gen(function* () {
      yield* Agent.run("researcher", LlmClient.complete(request()))
      return { exported: spans.getFinishedSpans(), collected: yield* Effect.promise(() => reader.collect()) }
    }).pipe(Effect.provide(client(TestProvider.always(TestProvider.reply())).pipe(Layer.provideMerge(Telemetry))))
    const call = exported.find((span) => span.name === "LlmClient.complete")
    expect(call?.attributes).toMatchObject({ "fleetguard.model": "claude-haiku-4-5", "fleetguard.agent": "researcher" })
    const names = collected.resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics.map((m) => m.descriptor.name))
    expect(names).toEqual(expect.arrayContaining(["fleetguard_llm_calls_total", "fleetguard_llm_cost_usd_total"]))
  })
)

it("docs/observability.md shows test/client/observability.example.ts as it is", () => {
  const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8")
  const shown = /## Exporting with OpenTelemetry[\s\S]*?```ts\n([\s\S]*?)```/.exec(read("docs/observability.md"))?.[1]
  const example = read("test/client/observability.example.ts").replace(/^(\/\/.*\n)+\n/, "")
  expect(shown).toBe(example)
})
