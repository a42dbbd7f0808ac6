import type { Config } from "effect"
import { ConfigError, Duration, Effect, Layer, Option } from "effect"
import { InvalidOption } from "../Errors.js"

/** Checks one option; the failure names it. */
export const check = <A>(
  option: string,
  value: A,
  ok: (value: A) => boolean,
  reason: string
): Effect.Effect<A, InvalidOption> =>
  ok(value) ? Effect.succeed(value) : Effect.fail(new InvalidOption({ option, value, reason }))

/** A duration option, in milliseconds: finite, and positive unless `allowZero`. */
export const checkDuration = (
  option: string,
  input: Duration.DurationInput,
  allowZero = false
): Effect.Effect<number, InvalidOption> => {
  const millis = Option.match(Duration.decodeUnknown(input), {
    onNone: () => Number.NaN,
    onSome: (d) => (Duration.isFinite(d) ? Duration.toMillis(d) : Number.NaN)
  })
  return check(
    option,
    millis,
    (ms) => !Number.isNaN(ms) && (allowZero ? ms >= 0 : ms > 0),
    allowZero ? "must be a finite duration" : "must be a positive, finite duration"
  )
}

export const isPositiveInteger = (n: number): boolean => Number.isSafeInteger(n) && n > 0

export const isPositiveFinite = (n: number): boolean => Number.isFinite(n) && n > 0

/**
 * A guard's `layerConfig`: reads its options through `config`, builds the layer, and reports an
 * option the layer refuses as a `ConfigError` naming the environment variable it came from.
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
          `${error.reason} (got ${String(error.value)})`
        )
      )
    )
  )
