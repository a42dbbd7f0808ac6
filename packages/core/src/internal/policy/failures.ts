/**
 * Which failures say what: the ones a breaker counts by default, and the provider's rate limits,
 * which the shared gate owns.
 */

/** Errors that say nothing about the health of what a breaker protects: fleetguard's own refusals, and client errors. */
const notCounted: ReadonlySet<string> = new Set([
  "BudgetExceeded",
  "DepthLimitExceeded",
  "CircuitOpen",
  "UnknownModel",
  "InvalidAmount",
  "InvalidOption",
  "InvalidRequest",
  "AuthenticationFailed",
  "GuardUnavailable"
])

/** By tag rather than `instanceof`: a program may load another copy of this package. */
const tagIn = (error: unknown, tags: ReadonlySet<string>): boolean =>
  typeof error === "object" && error !== null && "_tag" in error && tags.has(String(error._tag))

/** Every typed failure, except fleetguard's own rejections and client errors. */
export const isCounted = (error: unknown): boolean => !tagIn(error, notCounted)

/** The provider's limits, reached: the one list `isRateLimit` reads. */
const rateLimits: ReadonlySet<string> = new Set(["RateLimited"])

export const isRateLimit = (error: unknown): boolean => tagIn(error, rateLimits)
