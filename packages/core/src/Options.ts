/**
 * Options given to a guard's `make` or `layer`, decoded with Schema: whatever the value, a bad one
 * fails `InvalidOption` naming the option (its path, e.g. `failureRate.minimumCalls`) and saying
 * what it must be — never a defect, and never echoing a string given in the wrong place. Public so
 * that packages built on fleetguard (providers, other stores) decode their options the same way.
 *
 * @module
 * @since 0.1.0
 */
import type { Config } from "effect"
import { ConfigError, Duration, Effect, Either, Layer, ParseResult, Schema } from "effect"
import { describeValue, InvalidOption } from "./Errors.js"
import * as Values from "./internal/policy/values.js"

/**
 * The longest sleep a JavaScript timer can hold; Effect never wakes a longer one.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxTimerMillis = 2 ** 31 - 1

/**
 * A leaf option: `is` decides, `reason` says what it must be.
 *
 * @since 0.1.0
 * @category schemas
 */
export const option = <A>(is: (u: unknown) => u is A, reason: string): Schema.Schema<A> =>
  Schema.declare(is, { message: () => reason })

/**
 * Whether a value is a safe whole number ≥ 1.
 *
 * @since 0.1.0
 * @category guards
 */
export const isPositiveInteger = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n > 0

/**
 * Whether a value is a finite number > 0.
 *
 * @since 0.1.0
 * @category guards
 */
export const isPositiveFinite = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n) && n > 0

/**
 * Whether a value is a number in (0, 1].
 *
 * @since 0.1.0
 * @category guards
 */
export const isFraction = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n) && n > 0 && n <= 1

/**
 * An option that must be a whole number ≥ 1 (a count, a limit).
 *
 * @since 0.1.0
 * @category schemas
 */
export const PositiveInteger = option(isPositiveInteger, "must be a whole number ≥ 1")

/**
 * An option that must be a fraction in (0, 1] (a threshold).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Fraction = option(isFraction, "must be a fraction in (0, 1]")

const units: Readonly<Record<string, number>> = {
  nano: 1e-6,
  micro: 1e-3,
  milli: 1,
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000
}

const durationText = /^\s*(\d+(?:\.\d+)?)\s*(nano|micro|milli|second|minute|hour|day|week)s?\s*$/

/**
 * A duration's length in milliseconds, strictly: a number of millis, a bigint of nanos, a
 * `Duration`, `[seconds, nanos]`, or text such as "1 second" or "500 millis" (a bare number is
 * millis). Undefined for anything negative, NaN, infinite or unreadable — where
 * `Duration.decode` would silently make a negative or NaN input zero.
 *
 * @since 0.1.0
 * @category utils
 */
export const durationMillis = (input: unknown): number | undefined => {
  const ok = (ms: number) => (Number.isFinite(ms) && ms >= 0 ? ms : undefined)
  if (typeof input === "number") return ok(input)
  if (typeof input === "bigint") return input >= 0n ? ok(Number(input) / 1e6) : undefined
  if (typeof input === "string") {
    if (/^\s*\d+(\.\d+)?\s*$/.test(input)) return ok(Number(input))
    const match = durationText.exec(input)
    return match === null ? undefined : ok(Number(match[1]) * (units[match[2] ?? ""] ?? Number.NaN))
  }
  if (Duration.isDuration(input)) return Duration.isFinite(input) ? ok(Duration.toMillis(input)) : undefined
  if (Array.isArray(input) && input.length === 2) {
    const [seconds, nanos] = input as ReadonlyArray<unknown>
    if (typeof seconds === "number" && typeof nanos === "number" && nanos >= 0) return ok(seconds * 1_000 + nanos / 1e6)
  }
  return undefined
}

/**
 * A duration option, decoded to milliseconds: finite, at most `maxTimerMillis`, positive unless `allowZero`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DurationMillis = (allowZero = false) =>
  Schema.transform(
    option(
      (u): u is Duration.DurationInput => {
        const ms = durationMillis(u)
        return ms !== undefined && ms <= maxTimerMillis && (allowZero || ms > 0)
      },
      `must be a ${allowZero ? "" : "positive "}duration (e.g. "1 second" or a number of millis) of at most 24 days`
    ),
    Schema.Number,
    { strict: false, decode: (input) => durationMillis(input) ?? Number.NaN, encode: (millis) => millis }
  )

/**
 * A function option.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FunctionOption = option(
  (u): u is (...args: ReadonlyArray<never>) => unknown => typeof u === "function",
  "must be a function"
)

/**
 * Options as an object of `fields`; anything else (null, a number, a string) is refused as a whole.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Options = <Fields extends Schema.Struct.Fields>(fields: Fields) =>
  Schema.Struct(fields).annotations({ message: () => "must be an object of options" })

/**
 * The first problem Schema found in `input`: where it is, what is there, and what it must be.
 *
 * @since 0.1.0
 * @category utils
 */
export const firstIssue = (
  error: ParseResult.ParseError,
  input: unknown
): { readonly path: ReadonlyArray<PropertyKey>; readonly value: unknown; readonly reason: string } => {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  const path = issue?.path ?? []
  return {
    path,
    value: Values.valueAt(input, path),
    reason: issue?._tag === "Missing" ? "is required" : (issue?.message ?? "is not valid")
  }
}

/**
 * Decodes `input` with `schema`. The first problem becomes `InvalidOption`: its path under
 * `prefix` names the option (`options` when the whole value is wrong). Never throws: a getter or
 * a Proxy that throws is refused naming the option it guards.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = <A, I>(
  schema: Schema.Schema<A, I>,
  input: unknown,
  prefix?: string
): Effect.Effect<A, InvalidOption> => {
  const named = (path: ReadonlyArray<PropertyKey>, value: unknown, reason: string) => {
    const name = [prefix, ...path.map(String)].filter((part) => part !== undefined).join(".")
    return Effect.fail(new InvalidOption({ option: name === "" ? "options" : name, value, reason }))
  }
  let decoded: Either.Either<A, ParseResult.ParseError>
  try {
    decoded = Schema.decodeUnknownEither(schema, { errors: "first" })(input)
  } catch {
    // A getter or a Proxy trap threw: named where it throws again, else the options as a whole.
    return named(Values.unreadableAt(input) ?? [], undefined, "could not be read: a getter or Proxy threw")
  }
  return Either.match(decoded, {
    onRight: Effect.succeed,
    onLeft: (error) => {
      const { path, value, reason } = firstIssue(error, input)
      return named(path, value, reason)
    }
  })
}

/**
 * Checks one option after decoding (a rule across options); the failure names it.
 *
 * @since 0.1.0
 * @category utils
 */
export const check = <A>(
  option: string,
  value: A,
  ok: (value: A) => boolean,
  reason: string
): Effect.Effect<A, InvalidOption> =>
  ok(value) ? Effect.succeed(value) : Effect.fail(new InvalidOption({ option, value, reason }))

/**
 * A guard's `layerConfig`: reads its options through `config`, builds the layer, and reports an
 * option the layer refuses as a `ConfigError` naming the environment variable it came from.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromConfig = <O, I, R>(
  config: Config.Config<O>,
  variables: Readonly<Record<string, string>>,
  layer: (options: O) => Layer.Layer<I, InvalidOption, R>
): Layer.Layer<I, ConfigError.ConfigError, R> =>
  Layer.unwrapEffect(
    Effect.map(config, (options) =>
      Layer.mapError(layer(options), (error) =>
        ConfigError.InvalidData(
          [variables[error.option] ?? error.option],
          `${error.reason} (got ${describeValue(error.value)})`
        )
      )
    )
  )

/**
 * Whether a value is an object of options (not null, not an array).
 *
 * @since 0.1.0
 * @category guards
 */
export const isGroup = (u: unknown): u is object => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * An option that must itself be an object of options (a guard's group in a larger options object).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Group = option(isGroup, "must be an object of options")

/**
 * A refusal of a group's own options, named by the group's place in a larger options object:
 * `limitUsd` under "budget" becomes `budget.limitUsd` (the group as a whole, `budget`).
 *
 * @since 0.1.0
 * @category utils
 */
export const within =
  (group: string) =>
  (error: InvalidOption): InvalidOption =>
    new InvalidOption({
      option: error.option === "options" ? group : `${group}.${error.option}`,
      value: error.value,
      reason: error.reason
    })
