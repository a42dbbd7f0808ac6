/**
 * What the demo's command line refuses, each said in one line that names the option or variable.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * A demo option with a value it cannot take: said in one line naming the option.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidDemoOption extends Schema.TaggedError<InvalidDemoOption>()("InvalidDemoOption", {
  option: Schema.String,
  value: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.option} ${JSON.stringify(this.value)}: ${this.reason}`
  }
}

/**
 * `--live` without ANTHROPIC_API_KEY.
 *
 * @since 0.1.0
 * @category errors
 */
export class MissingApiKey extends Schema.TaggedError<MissingApiKey>()("MissingApiKey", {}) {
  override get message(): string {
    return "--live needs ANTHROPIC_API_KEY set: it runs against the real API (and spends at most --limit USD)"
  }
}
