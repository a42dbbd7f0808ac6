/**
 * A call's model and output cap, read from the provider's config in context: for
 * @effect/ai-anthropic, the `AnthropicLanguageModel.Config` that `withConfigOverride` provides,
 * merged last into what is sent. The config the model layer was built with cannot be seen from
 * outside it, so a model named only there is unknown here.
 */
import { describeValue, InvalidAmount, InvalidRequest, Options, UnknownModel } from "@fleetguard/core"
import { Context, Either, Option, Schema } from "effect"

/**
 * @effect/ai-anthropic's Config tag, by its key: a Tag is found in a Context by its key alone, so
 * this package reads it without depending on @effect/ai-anthropic.
 */
export const AnthropicConfig = Context.GenericTag<"AnthropicConfig", unknown>(
  "@effect/ai-anthropic/AnthropicLanguageModel/Config"
)

/** What @effect/ai-anthropic sends when the config has no `max_tokens`. */
export const defaultMaxTokens = 4096

/** The model id UnknownModel carries when no config in context names one. */
export const unsetModel = "(unset)"

export interface CallConfig {
  readonly model: string
  readonly maxTokens: number
}

const Fields = Schema.Struct({
  model: Schema.optional(
    Options.option((u): u is string => typeof u === "string" && u.trim() !== "", "must be a model id")
  ),
  max_tokens: Schema.optional(Options.option(Options.isPositiveInteger, "must be a whole number ≥ 1"))
}).annotations({ message: () => "must be an object of options" })

const decodeFields = Schema.decodeUnknownEither(Fields, { errors: "first" })

/**
 * The model and max tokens of the config in `context`: `max_tokens` absent is 4096; no model is
 * `UnknownModel` (nothing can be priced); a malformed field fails naming it (`InvalidAmount` for
 * `max_tokens`, `InvalidRequest` for the rest).
 */
export const callConfig = (
  context: Context.Context<never>
): Either.Either<CallConfig, UnknownModel | InvalidAmount | InvalidRequest> => {
  const config = Option.getOrUndefined(Context.getOption(context, AnthropicConfig)) ?? {}
  return Either.flatMap(
    Either.mapLeft(decodeFields(config), (error) => {
      const { path, value, reason } = Options.firstIssue(error, config)
      const field = path.length === 0 ? "config" : path.map(String).join(".")
      return field === "max_tokens"
        ? new InvalidAmount({ field, value, reason })
        : new InvalidRequest({
            errorType: "client_error",
            field,
            message: `${field} ${reason} (got ${describeValue(value)})`
          })
    }),
    ({ model, max_tokens }) =>
      model === undefined
        ? Either.left(new UnknownModel({ model: unsetModel }))
        : Either.right({ model, maxTokens: max_tokens ?? defaultMaxTokens })
  )
}
