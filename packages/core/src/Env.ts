/**
 * Strict readers of environment variables, for every `layerConfig`. Effect's `Config.number` reads
 * an empty variable as 0 and `0x10` as 16; these accept plain decimals only, and a bad value fails
 * naming its variable.
 *
 * @module
 * @since 0.1.0
 */
import { Config, ConfigError, Either, Option, Redacted } from "effect"
import { durationMillis, maxTimerMillis } from "./Options.js"

const decimal = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/
const integer = /^[-+]?\d+$/

const shown = (text: string) => (text.trim() === "" ? "an empty value" : JSON.stringify(text.slice(0, 40)))

// One mapOrFail on the variable itself: the error of a second one, chained after it, would lose
// the variable's name (`Invalid data at : "is out of range"`).
const parsed = (name: string, pattern: RegExp, expected: string, inRange: (n: number) => boolean) =>
  Config.string(name).pipe(
    Config.mapOrFail((text) => {
      const n = Number(text.trim())
      return !pattern.test(text.trim())
        ? Either.left(ConfigError.InvalidData([], `must be ${expected}, got ${shown(text)}`))
        : inRange(n)
          ? Either.right(n)
          : Either.left(ConfigError.InvalidData([], `is out of range, got ${shown(text)}`))
    })
  )

/**
 * A decimal number such as `10` or `0.5`.
 *
 * @since 0.1.0
 * @category config
 */
export const number = (name: string): Config.Config<number> =>
  parsed(name, decimal, "a decimal number (e.g. 10 or 0.5)", Number.isFinite)

/**
 * A whole number such as `8`, no larger than JavaScript holds exactly (2^53 - 1).
 *
 * @since 0.1.0
 * @category config
 */
export const int = (name: string): Config.Config<number> =>
  parsed(name, integer, "a whole number (e.g. 8)", Number.isSafeInteger)

/**
 * A duration such as `1 second`, `500 millis` or `500` (millis).
 *
 * @since 0.1.0
 * @category config
 */
export const duration = (name: string): Config.Config<number> =>
  Config.string(name).pipe(
    Config.mapOrFail((text) => {
      const ms = durationMillis(text)
      return ms !== undefined && ms <= maxTimerMillis
        ? Either.right(ms)
        : Either.left(
            ConfigError.InvalidData(
              [],
              `must be a duration of at most 24 days such as "1 second" or "500 millis", got ${shown(text)}`
            )
          )
    })
  )

/**
 * An optional variable: absent is undefined, present must parse.
 *
 * @since 0.1.0
 * @category config
 */
export const optional = <A>(config: Config.Config<A>): Config.Config<A | undefined> =>
  Config.option(config).pipe(Config.map(Option.getOrUndefined))

/**
 * A string that is not empty, such as a path.
 *
 * @since 0.1.0
 * @category config
 */
export const text = (name: string): Config.Config<string> =>
  Config.string(name).pipe(
    Config.mapOrFail((s) =>
      s.trim() === "" ? Either.left(ConfigError.InvalidData([], "must not be empty")) : Either.right(s)
    )
  )

/**
 * A secret (a key, a webhook URL): read as `Redacted` so that it is never shown, and refused when empty.
 *
 * @since 0.1.0
 * @category config
 */
export const secret = (name: string): Config.Config<Redacted.Redacted<string>> =>
  text(name).pipe(Config.map(Redacted.make))

/**
 * A `ConfigError` as one line that names the variable (`FLEETGUARD_BUDGET_USD is not set`), for a
 * program's exit message instead of a failure trace. Of two alternatives (`Config.orElse`) the
 * fallback's error is the one shown; of two failures, the first.
 *
 * @since 0.1.0
 * @category errors
 */
export const explain = (error: ConfigError.ConfigError): string => {
  switch (error._op) {
    case "And":
      return explain(error.left)
    case "Or":
      return explain(error.right)
    case "MissingData":
      return error.path.length > 0 ? `${error.path.join(".")} is not set` : error.message
    default:
      return error.path.length > 0 ? `${error.path.join(".")} ${error.message}` : error.message
  }
}
