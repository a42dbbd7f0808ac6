// docs/observability.md's example, as written, so that it type-checks with the repository
// (test/client/observability.test.ts runs the same wiring with in-memory exporters). Not run by the tests.

import { NodeSdk } from "@effect/opentelemetry"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { AnthropicProvider } from "@fleetguard/anthropic"
import { Agent, Guards, LlmClient } from "@fleetguard/core"
import { ConsoleMetricExporter, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor, ConsoleSpanExporter } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer } from "effect"

// The exporters are yours to choose (OTLP to a collector, a vendor's); these two print to the console.
const Telemetry = NodeSdk.layer(() => ({
  resource: { serviceName: "research-fleet" },
  spanProcessor: new BatchSpanProcessor(new ConsoleSpanExporter()),
  metricReader: new PeriodicExportingMetricReader({
    exporter: new ConsoleMetricExporter(),
    exportIntervalMillis: 60_000
  })
}))

const Live = LlmClient.layer.pipe(
  Layer.provideMerge(Guards.layerConfig()), // FLEETGUARD_BUDGET_USD, FLEETGUARD_JOURNAL, FLEETGUARD_SLACK_WEBHOOK_URL, …
  Layer.provideMerge(AnthropicProvider.layerConfig()),
  Layer.provideMerge(Telemetry),
  Layer.provideMerge(NodeContext.layer) // the journal's FileSystem and Path
)

const research = Agent.run(
  "researcher",
  LlmClient.complete({
    model: "claude-haiku-4-5",
    maxTokens: 300,
    messages: [{ role: "user", content: "What limits the cost of a fleet of agents?" }]
  })
)

NodeRuntime.runMain(Effect.provide(research, Live))
