/**
 * `fleetguard demo --live`: the storm's and the fan-out's guarded agents against the real API,
 * under one hard fleet limit, on the cheapest model. Needs ANTHROPIC_API_KEY, which is read as a
 * Redacted value and never printed.
 *
 * @since 0.1.0
 */
import { AnthropicProvider } from "@fleetguard/anthropic"
import { Budget, Events, GuardEvents, Guards, LlmClient } from "@fleetguard/core"
import { Chunk, Config, Console, Effect, Layer, Option, Queue, Redacted } from "effect"
import { guardsOf, request, settings } from "./agents.js"
import { MissingApiKey } from "./errors.js"
import { refusals } from "./measure.js"
import { guardedResearcher, tree } from "./research.js"
import { guardedAgents } from "./storm.js"
import { usd } from "./table.js"

const liveModel = "claude-haiku-4-5"
// Short answers: the point is the guards' behaviour, not the text. A plan needs room for its sub-queries.
const maxTokens = 40
const planTokens = 200

const scenarios = (limitUsd: number) =>
  Effect.gen(function* () {
    const events = yield* Events.subscribe
    const storm = yield* guardedAgents((i, s) => request(`storm agent ${i}, step ${s}`, maxTokens, liveModel))
    yield* Console.log(
      `storm: ${storm.finished} agents finished, ${storm.failed.size} stopped by a refusal or an error`
    )
    const research = tree(3, liveModel, planTokens)
    yield* Effect.either(guardedResearcher(research, "0", "the cost of running LLM agent fleets"))
    yield* Console.log(`fanout: agents run per depth ${research.spawned.join(", ")}`)
    const refused = Object.entries(refusals(Chunk.toReadonlyArray(yield* Queue.takeAll(events))))
    const { spentUsd } = yield* Budget.snapshot
    yield* Console.log(
      `refused: ${refused.length === 0 ? "nothing" : refused.map(([reason, n]) => `${n} × ${reason}`).join(", ")}`
    )
    yield* Console.log(`spent ${usd(spentUsd)} of the ${usd(limitUsd)} fleet limit (from the usage the API reported)`)
  })

/**
 * Runs the live demo under `limitUsd`; fails `MissingApiKey` without a key.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (limitUsd: number) =>
  Effect.gen(function* () {
    const set = yield* Effect.orDie(Config.option(Config.redacted("ANTHROPIC_API_KEY")))
    const key = Option.filter(set, (k) => Redacted.value(k).trim() !== "")
    if (Option.isNone(key)) return yield* new MissingApiKey()
    const limit = String(limitUsd)
    const guards = yield* Effect.orDie(
      guardsOf({ ...settings, FLEETGUARD_BUDGET_USD: limit, FLEETGUARD_AGENT_BUDGET_USD: limit })
    )
    const layer = LlmClient.layer.pipe(
      Layer.provideMerge(Guards.layer(guards)),
      Layer.provideMerge(AnthropicProvider.layer({ apiKey: key.value })),
      Layer.provideMerge(GuardEvents.layer())
    )
    yield* Console.log(`fleetguard demo --live: ${liveModel}, hard fleet limit ${usd(limitUsd)}`)
    return yield* Effect.scoped(Effect.provide(scenarios(limitUsd), layer))
  })
