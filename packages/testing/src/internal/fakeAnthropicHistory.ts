/**
 * What FakeAnthropic sent (tool_use ids, thinking signatures, redacted thinking), and the checks of
 * a conversation against it and against the API's own rules: a tool_result answers a tool_use of
 * the assistant message just before it, every tool_use is answered in the next message, and with
 * thinking on, the assistant turn of a tool loop starts with its thinking. Strict, a history must
 * also be one this server wrote: ids it sent, thinking unchanged with its signature.
 */
import type { AnswerBlock } from "@fleetguard/core"
import { type Fields, isRecord } from "./countTokens.js"

/** The blocks of a message already checked for shape (a string content has none). */
const blocksOf = (message: unknown): ReadonlyArray<Fields> =>
  isRecord(message) && Array.isArray(message.content) ? (message.content as ReadonlyArray<Fields>) : []

const ids = (blocks: ReadonlyArray<Fields>, type: string, field: string) =>
  blocks.flatMap((b) => (b.type === type ? [b[field] as string] : []))

export const make = (strict: boolean) => {
  const toolUseIds = new Set<string>()
  const signatures = new Map<string, string>()
  const redacted = new Set<string>()

  const remember = (blocks: ReadonlyArray<AnswerBlock>) => {
    for (const b of blocks) {
      if (b.type === "tool_use") toolUseIds.add(b.id)
      else if (b.type === "thinking") signatures.set(b.signature, b.thinking)
      else if (b.type === "redacted_thinking") redacted.add(b.data)
    }
  }

  /** A tool_result of message `i` answering a tool_use of message `i - 1` (and, strict, one sent). */
  const results = (messages: ReadonlyArray<unknown>, i: number): string | undefined => {
    const asked = ids(blocksOf(messages[i - 1]), "tool_use", "id")
    for (const [j, b] of blocksOf(messages[i]).entries()) {
      if (b.type !== "tool_result") continue
      const id = b.tool_use_id as string
      const path = `messages.${i}.content.${j}.tool_use_id`
      if (!asked.includes(id)) {
        return `${path}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`
      }
      if (strict && !toolUseIds.has(id)) {
        return `${path}: ${id} is not the id of a tool_use this FakeAnthropic sent (a hand-written history? Options.strictHistory: false takes it)`
      }
    }
    return undefined
  }

  /** Every tool_use of assistant message `i` answered in message `i + 1`. */
  const answered = (messages: ReadonlyArray<unknown>, i: number): string | undefined => {
    const given = ids(blocksOf(messages[i + 1]), "tool_result", "tool_use_id")
    const missing = ids(blocksOf(messages[i]), "tool_use", "id").filter((id) => !given.includes(id))
    return missing.length === 0
      ? undefined
      : `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(", ")}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`
  }

  /** Strict: thinking as this server wrote it, unchanged. */
  const thoughts = (messages: ReadonlyArray<unknown>, i: number): string | undefined => {
    if (!strict) return undefined
    for (const [j, b] of blocksOf(messages[i]).entries()) {
      if (b.type === "thinking" && signatures.get(b.signature as string) !== b.thinking) {
        return `messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`
      }
      if (b.type === "redacted_thinking" && !redacted.has(b.data as string)) {
        return `messages.${i}.content.${j}: Invalid \`data\` in \`redacted_thinking\` block`
      }
    }
    return undefined
  }

  /** With thinking on, the assistant turn a tool_result answers last starts with its thinking. */
  const thinkingFirst = (messages: ReadonlyArray<unknown>, thinking: unknown): string | undefined => {
    if (!isRecord(thinking) || (thinking.type !== "enabled" && thinking.type !== "adaptive")) return undefined
    const last = messages.length - 1
    if (!blocksOf(messages[last]).some((b) => b.type === "tool_result")) return undefined
    const found = blocksOf(messages[last - 1])[0]?.type
    return found === "thinking" || found === "redacted_thinking"
      ? undefined
      : `messages.${last - 1}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(found)}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`.`
  }

  /** The first thing wrong with the conversation of `body` (already checked for shape). */
  const check = (body: Fields): string | undefined => {
    const messages = body.messages as ReadonlyArray<unknown>
    for (let i = 0; i < messages.length; i++) {
      // A tool_result that answers nothing is named before the tool_use it fails to answer.
      const failure = results(messages, i) ?? (i > 0 ? answered(messages, i - 1) : undefined) ?? thoughts(messages, i)
      if (failure !== undefined) return failure
    }
    return thinkingFirst(messages, body.thinking)
  }

  return { remember, check }
}

export type History = ReturnType<typeof make>
