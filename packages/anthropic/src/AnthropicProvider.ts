/**
 * AnthropicProvider: fleetguard's `LlmProvider` for the Anthropic Messages API, through the official
 * SDK. The SDK's own retries are off (`maxRetries: 0`): fleetguard coordinates retries across the
 * fleet. Every request carries an AbortSignal tied to the calling fiber, so interrupting the fiber
 * (a trip, a timeout, a cancelled agent) aborts its HTTP request.
 *
 * @module
 * @since 0.1.0
 */
import Anthropic from "@anthropic-ai/sdk"
import {
  type InputTokenCounter,
  InvalidOption,
  LlmProvider,
  type LlmProviderService,
  Options,
  type PriceTable,
  Pricing
} from "@fleetguard/core"
import { Clock, Config, ConfigError, type Duration, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import { type Connection, calls } from "./internal/calls.js"
import { scrubber, toProviderError } from "./internal/errors.js"
import { carrying, type FetchOptions, FetchTrace, tracingFetch } from "./internal/fetchTrace.js"
import { toCountParams, unsendable } from "./internal/request.js"

/**
 * How to reach the Anthropic API: the key, the base URL, and how long a call may take.
 *
 * @since 0.1.0
 * @category models
 */
export interface AnthropicProviderOptions {
  /** Never printed: errors, events and logs carry no trace of it. */
  readonly apiKey: Redacted.Redacted<string>
  /** Default: the SDK's (https://api.anthropic.com). */
  readonly baseURL?: string | undefined
  /**
   * How long a call may take in all, and how long a stream may go without an event. Default 10
   * minutes, as the SDK's (whose own timeout stops at the response headers).
   */
  readonly timeout?: Duration.DurationInput | undefined
}

const invalid = (option: string, value: unknown, reason: string) =>
  Effect.fail(new InvalidOption({ option, value, reason }))

/** What an HTTP header value can carry as given: visible ASCII. fetch refuses or re-encodes anything else. */
const headerSafe = /^[\x21-\x7E]+$/

/**
 * A base URL as an error may show it: scheme, host and path, never its userinfo (a key pasted in
 * as `user:KEY@host`) nor its query; only the scheme when it has no host, nothing when it does not parse.
 */
const shownURL = (url: URL | null): string =>
  url === null ? "<not a URL>" : url.host === "" ? url.protocol : `${url.protocol}//${url.host}${url.pathname}`

const OptionsSchema = Options.Options({
  apiKey: Options.option(
    (u): u is Redacted.Redacted<string> => Redacted.isRedacted(u) && typeof Redacted.value(u) === "string",
    "must be the API key as a Redacted string (Redacted.make(key))"
  ),
  baseURL: Schema.optional(
    Options.option((u): u is string => typeof u === "string", "must be an absolute http(s) URL")
  ),
  timeout: Schema.optional(Options.DurationMillis())
})

/** The options, decoded; whatever was given for the key, the error holds "<redacted>", never it. */
const decodeOptions = (options: AnthropicProviderOptions) =>
  Effect.mapError(Options.decode(OptionsSchema, options), (error) =>
    error.option === "apiKey" ? new InvalidOption({ ...error, value: "<redacted>" }) : error
  )

// The SDK client for `options`, with how its failures are reported. A bad option fails
// `InvalidOption` naming it (the key's value is never shown, nor a URL's credentials).
const connect = (options: AnthropicProviderOptions): Effect.Effect<Connection, InvalidOption> =>
  Effect.gen(function* () {
    const decoded = yield* decodeOptions(options)
    const key = Redacted.value(decoded.apiKey)
    if (key.trim() === "") return yield* invalid("apiKey", "<redacted>", "must not be empty")
    // Such a key would fail every call after the reservation, as if the provider had been reached.
    if (!headerSafe.test(key))
      return yield* invalid(
        "apiKey",
        "<redacted>",
        "must hold only visible ASCII characters (no spaces, line breaks or accents): it is sent in an HTTP header"
      )
    if (decoded.baseURL !== undefined) {
      const url = URL.parse(decoded.baseURL)
      if (url === null || !/^https?:$/.test(url.protocol))
        return yield* invalid("baseURL", shownURL(url), "must be an absolute http(s) URL")
      if (url.username !== "" || url.password !== "")
        return yield* invalid(
          "baseURL",
          shownURL(url),
          "must not hold credentials (user:password@): fetch refuses them"
        )
    }
    // Default 10 minutes, the SDK's own; at most what a timer can hold (a longer one fires at once).
    const timeoutMillis = decoded.timeout ?? 600_000

    const client = new Anthropic({
      apiKey: key,
      maxRetries: 0,
      // Failures are returned as typed errors; the SDK's own console logging would only duplicate them.
      logLevel: "off",
      // Records in each request's trace how far it got: failures are settled by it.
      fetch: tracingFetch,
      // Given only when set: with none, the SDK keeps its check that large non-streaming requests stream.
      ...(decoded.timeout === undefined ? {} : { timeout: timeoutMillis }),
      ...(decoded.baseURL === undefined ? {} : { baseURL: decoded.baseURL })
    })
    // Error text is kept (journal, logs): a key echoed back by anything upstream is cut out of it.
    const scrub = scrubber(key)
    const failWith = (trace: FetchTrace) => (error: unknown) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.fail(toProviderError(error, trace, now, scrub)))
    // One request, aborted if the fiber is interrupted. Each attempt carries a fresh trace to fetch
    // (in `fetchOptions`, which `call` passes on to the SDK): how far it got decides its failure.
    const send = <A>(call: (signal: AbortSignal, fetchOptions: FetchOptions) => Promise<A>) =>
      Effect.suspend(() => {
        const trace = new FetchTrace()
        return Effect.tryPromise({
          try: (signal) => call(signal, carrying(trace)),
          catch: (error) => error
        }).pipe(Effect.catchAll(failWith(trace)))
      })
    return { client, scrub, failWith, send, timeoutMillis }
  })

/**
 * Builds the provider; a bad option fails `InvalidOption` naming it (the key's value is never shown).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: AnthropicProviderOptions): Effect.Effect<LlmProviderService, InvalidOption> =>
  Effect.map(connect(options), calls)

/**
 * Counts input tokens exactly with `/v1/messages/count_tokens` (free, but a request of its own).
 *
 * @since 0.1.0
 * @category constructors
 */
export const countInputTokens = (options: AnthropicProviderOptions): Effect.Effect<InputTokenCounter, InvalidOption> =>
  Effect.map(
    connect(options),
    ({ client, send }): InputTokenCounter =>
      (request) =>
        Either.match(toCountParams(request), {
          onLeft: (refused) => Effect.fail(unsendable(refused)),
          onRight: (params) =>
            Effect.map(
              send((signal, fetchOptions) => client.messages.countTokens(params, { signal, fetchOptions })),
              (count) => count.input_tokens
            )
        })
  )

/**
 * `Pricing` whose estimates count input tokens exactly with the API, instead of bounding them by the
 * prompt's bytes: tighter reservations for one extra (free) request per call. If counting fails,
 * the byte bound is used.
 *
 * @since 0.1.0
 * @category layers
 */
export const pricingLayer = (
  options: AnthropicProviderOptions,
  table?: PriceTable
): Layer.Layer<Pricing, InvalidOption> =>
  Layer.effect(
    Pricing,
    Effect.flatMap(countInputTokens(options), (counter) => Pricing.make(table, counter))
  )

/**
 * `LlmProvider` on the Anthropic API.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: AnthropicProviderOptions): Layer.Layer<LlmProvider, InvalidOption> =>
  Layer.effect(LlmProvider, make(options))

/**
 * ANTHROPIC_API_KEY (required) and ANTHROPIC_BASE_URL (optional).
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<AnthropicProviderOptions> = Config.all({
  apiKey: Config.redacted("ANTHROPIC_API_KEY").pipe(
    Config.orElse(() =>
      Config.fail("ANTHROPIC_API_KEY is not set: set it to your Anthropic API key (or use FakeAnthropic in tests)")
    )
  ),
  baseURL: Config.option(Config.string("ANTHROPIC_BASE_URL")).pipe(Config.map(Option.getOrUndefined))
})

/**
 * The provider from the environment; a bad value fails naming its variable. The value shown is
 * InvalidOption's, which is never a secret: "<redacted>" for the key, a URL without its credentials.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<AnthropicProviderOptions> = config
): Layer.Layer<LlmProvider, ConfigError.ConfigError> =>
  Layer.unwrapEffect(
    Effect.map(options, (o) =>
      Layer.mapError(layer(o), (error) =>
        ConfigError.InvalidData(
          [
            error.option === "apiKey"
              ? "ANTHROPIC_API_KEY"
              : error.option === "baseURL"
                ? "ANTHROPIC_BASE_URL"
                : error.option
          ],
          `${error.reason} (got ${String(error.value)})`
        )
      )
    )
  )
