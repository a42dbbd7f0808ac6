/** What a worker of the multi-process tests is told to do (FLEET, as JSON), and what it reports. */
import { RedisGuards } from "@fleetguard/redis"

export interface Orders {
  readonly scenario: "spend" | "hang"
  readonly redisUrl: string
  readonly prefix: string
  readonly fakeUrl: string
  readonly apiKey: string
  readonly agents: number
  readonly calls: number
  readonly limitUsd: number
  readonly perAgentLimitUsd: number
  readonly maxConcurrency: number
  readonly failureThreshold: number
  readonly lease: number
  readonly timeout: number
}

export interface Report {
  readonly ok: number
  readonly costUsd: number
  readonly errors: Record<string, number>
  /** For "hang": whether each hanging call ended interrupted by a trip. */
  readonly interrupted: number
}

/** The Redis guards a worker (or the test, looking at the same fleet) builds from its orders. */
export const guardsFor = (orders: Orders) =>
  RedisGuards.layer({
    url: orders.redisUrl,
    prefix: orders.prefix,
    lease: orders.lease,
    timeout: orders.timeout,
    budget: { limitUsd: orders.limitUsd, perAgentLimitUsd: orders.perAgentLimitUsd },
    concurrency: { maxConcurrency: orders.maxConcurrency },
    breaker: { failureThreshold: orders.failureThreshold, resetAfter: "1 minute", halfOpenMaxCalls: 1 }
  })
