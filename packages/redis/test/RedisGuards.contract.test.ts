import { it } from "@effect/vitest"
import { Budget, CircuitBreaker, Concurrency } from "@fleetguard/core"
import { Contract } from "@fleetguard/testing/contract"
import { Effect, Layer } from "effect"
import { guards, withRedis } from "./support.js"

// The in-memory guards' contract, run against the Redis layers: same checks, real time.
withRedis("Redis guards", (server) => {
  const options: Contract.Options = {
    it: it.live,
    advance: (millis) => Effect.sleep(millis),
    samples: (inMemory) => Math.max(5, Math.ceil(inMemory / 5))
  }
  Contract.budget(
    "Redis",
    (budget) => Layer.effect(Budget, Budget).pipe(Layer.provide(guards(server(), { budget }))),
    options
  )
  Contract.concurrency(
    "Redis",
    (concurrency) => Layer.effect(Concurrency, Concurrency).pipe(Layer.provide(guards(server(), { concurrency }))),
    options
  )
  Contract.breaker(
    "Redis",
    (breaker) => Layer.effect(CircuitBreaker, CircuitBreaker).pipe(Layer.provide(guards(server(), { breaker }))),
    options
  )
})
