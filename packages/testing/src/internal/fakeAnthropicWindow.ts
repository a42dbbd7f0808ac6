/**
 * FakeAnthropic's rate limits as pure functions: fixed windows aligned at server start, counting
 * requests and tokens when a request is admitted. A limit that was not configured is reported
 * (generously, so the headers look like the API's) with all of it remaining: a client that honours
 * the headers must not be told to wait for a limit the server never enforces.
 */

export interface Limit {
  readonly limit: number
  readonly enforced: boolean
}

export interface Settings {
  /** Epoch millis the windows are aligned to. */
  readonly startMillis: number
  readonly windowMillis: number
  readonly requests: Limit
  readonly tokens: Limit
}

export interface Window {
  readonly index: number
  readonly requests: number
  readonly tokens: number
}

export const empty: Window = { index: 0, requests: 0, tokens: 0 }

export interface Status {
  readonly requestsLimit: number
  readonly requestsRemaining: number
  readonly tokensLimit: number
  readonly tokensRemaining: number
  /** Epoch millis the current window ends. */
  readonly resetAt: number
}

export type Decision =
  | { readonly _tag: "Admitted"; readonly window: Window; readonly status: Status }
  | { readonly _tag: "Rejected"; readonly window: Window; readonly status: Status; readonly retryAfterSeconds: number }

const current = (settings: Settings, window: Window, now: number): Window => {
  const index = Math.floor((now - settings.startMillis) / settings.windowMillis)
  return index === window.index ? window : { index, requests: 0, tokens: 0 }
}

const remaining = (limit: Limit, used: number) => (limit.enforced ? Math.max(0, limit.limit - used) : limit.limit)

const status = (settings: Settings, window: Window): Status => ({
  requestsLimit: settings.requests.limit,
  requestsRemaining: remaining(settings.requests, window.requests),
  tokensLimit: settings.tokens.limit,
  tokensRemaining: remaining(settings.tokens, window.tokens),
  resetAt: settings.startMillis + (window.index + 1) * settings.windowMillis
})

/** The window as it stands at `now`, without counting anything (for responses that are not admitted calls). */
export const peek = (settings: Settings, window: Window, now: number): Status =>
  status(settings, current(settings, window, now))

/**
 * Admits a request costing `tokens` or rejects it until the window ends. A request is rejected when
 * the window has no request left or fewer tokens left than it needs, as the API does.
 */
export const admit = (settings: Settings, window: Window, now: number, tokens: number): Decision => {
  const w = current(settings, window, now)
  const full =
    (settings.requests.enforced && w.requests + 1 > settings.requests.limit) ||
    (settings.tokens.enforced && w.tokens + tokens > settings.tokens.limit)
  if (full) {
    const s = status(settings, w)
    return {
      _tag: "Rejected",
      window: w,
      status: s,
      retryAfterSeconds: Math.max(1, Math.ceil((s.resetAt - now) / 1000))
    }
  }
  const next = { index: w.index, requests: w.requests + 1, tokens: w.tokens + tokens }
  return { _tag: "Admitted", window: next, status: status(settings, next) }
}

/** The `anthropic-ratelimit-*` headers, reset in RFC 3339. */
export const headers = (s: Status): Record<string, string> => {
  const reset = new Date(s.resetAt).toISOString()
  return {
    "anthropic-ratelimit-requests-limit": String(s.requestsLimit),
    "anthropic-ratelimit-requests-remaining": String(s.requestsRemaining),
    "anthropic-ratelimit-requests-reset": reset,
    "anthropic-ratelimit-tokens-limit": String(s.tokensLimit),
    "anthropic-ratelimit-tokens-remaining": String(s.tokensRemaining),
    "anthropic-ratelimit-tokens-reset": reset
  }
}
