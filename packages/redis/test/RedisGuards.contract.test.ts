import { it } from "@effect/vitest"
import { Budget, CircuitBreaker, Concurrency } from "@fleetguard/core"
import { Effect, Layer } from "effect"
import { budgetContract } from "../../core/test/contract/Budget.contract.js"
import type { Backend } from "../../core/test/contract/backend.js"
import { circuitBreakerContract } from "../../core/test/contract/CircuitBreaker.contract.js"
import { concurrencyContract } from "../../core/test/contract/Concurrency.contract.js"
import { guards, withRedis } from "./support.js"

// The in-memory guards' contract, run against the Redis layers: same tests, real time.
withRedis("Redis guards", (server) => {
  const backend: Backend = {
    name: "Redis",
    it: it.live,
    budget: (budget) => Layer.effect(Budget, Budget).pipe(Layer.provide(guards(server(), { budget }))),
    concurrency: (concurrency) =>
      Layer.effect(Concurrency, Concurrency).pipe(Layer.provide(guards(server(), { concurrency }))),
    breaker: (breaker) =>
      Layer.effect(CircuitBreaker, CircuitBreaker).pipe(Layer.provide(guards(server(), { breaker }))),
    advance: (millis) => Effect.sleep(millis),
    samples: (inMemory) => Math.max(5, Math.ceil(inMemory / 5))
  }
  budgetContract(backend)
  concurrencyContract(backend)
  circuitBreakerContract(backend)
})
