/**
 * Retry policy as pure functions: capped exponential backoff with full jitter, and a fleet-wide
 * retry budget in the manner of gRPC retry throttling — every failure it is asked about takes a token,
 * every success gives back a fraction of one, and retries are allowed only while more than half
 * the tokens remain, so a storm cannot multiply the calls.
 */

/** Full jitter: uniform in [0, min(max, base · 2^(attempt-1))). `random` is in [0, 1). */
export const backoffMillis = (attempt: number, baseMillis: number, maxMillis: number, random: number): number =>
  Math.floor(random * Math.min(maxMillis, baseMillis * 2 ** Math.max(0, attempt - 1)))

export interface RetryTokens {
  readonly tokens: number
  readonly maxTokens: number
  readonly tokenRatio: number
}

export const fullTokens = (maxTokens: number, tokenRatio: number): RetryTokens => ({
  tokens: maxTokens,
  maxTokens,
  tokenRatio
})

export const onSuccess = (budget: RetryTokens): RetryTokens =>
  budget.tokens >= budget.maxTokens
    ? budget
    : { ...budget, tokens: Math.min(budget.maxTokens, budget.tokens + budget.tokenRatio) }

/** Takes a token for a retryable failure; answers whether a retry is still allowed. */
export const onFailure = (budget: RetryTokens): readonly [allowed: boolean, RetryTokens] => {
  const tokens = Math.max(0, budget.tokens - 1)
  return [tokens > budget.maxTokens / 2, { ...budget, tokens }]
}
