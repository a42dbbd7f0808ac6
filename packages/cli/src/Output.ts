/**
 * Where `fleetguard` prints: whether standard output is a terminal (`status --watch` then redraws
 * it in place, every second) and whether it may be coloured (`--help`). Read from the context, so
 * that a program (or a test) embedding the command says it; the bin says it from `process.stdout`
 * and `NO_COLOR`. Without it: plain text, as for a pipe.
 *
 * @module
 * @since 0.1.0
 */
import { Context } from "effect"

/**
 * What the output accepts.
 *
 * @since 0.1.0
 * @category models
 */
export interface OutputService {
  /** A terminal, where a redraw can clear what was shown. */
  readonly terminal: boolean
  /** ANSI colours and weights are welcome. */
  readonly colour: boolean
}

/**
 * The output `fleetguard` prints to; by default a pipe (no terminal, no colour).
 *
 * @since 0.1.0
 * @category tags
 */
export class Output extends Context.Reference<Output>()("@fleetguard/cli/Output", {
  defaultValue: (): OutputService => ({ terminal: false, colour: false })
}) {}

/**
 * The output a stream is: a terminal when it is a TTY, coloured unless `NO_COLOR` is set to
 * anything but the empty string (https://no-color.org).
 *
 * @since 0.1.0
 * @category constructors
 */
export const of = (
  stream: { readonly isTTY?: boolean | undefined },
  env: Readonly<Record<string, string | undefined>>
): OutputService => {
  const terminal = stream.isTTY === true
  return { terminal, colour: terminal && (env.NO_COLOR ?? "") === "" }
}
