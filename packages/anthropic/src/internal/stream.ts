/**
 * A Messages API stream folded event by event: usage as it is reported, each content block built
 * at its index from its start, deltas and stop (text, tool input JSON, thinking and its
 * signature), and at `message_stop` the completion with every block in order.
 */
import type { AnswerBlock, CompletionRequest, ProviderCompletion, ProviderStreamEvent, Usage } from "@fleetguard/core"
import { Either, type ParseResult, Schema } from "effect"
import { ApiUsage, Count, carried, OptionalCount, problem, ToolInput, toUsage } from "./answer.js"

/** A block of the answer as its events build it; `open` until its content_block_stop. */
type Building = { open: boolean } & (
  | { readonly type: "text"; text: string }
  | { readonly type: "tool_use"; readonly id: string; readonly name: string; json: string; input: unknown }
  | { readonly type: "thinking"; thinking: string; signature: string }
  | { readonly type: "redacted_thinking"; readonly data: string }
  /** A block fleetguard does not carry (a server tool's call or result): its deltas are skipped. */
  | { readonly type: "skipped" }
)

/** What a stream has said so far, folded event by event. */
export interface StreamState {
  model: string
  usage: Usage | undefined
  stopReason: string | null
  /** By index, as the API numbers the blocks. */
  readonly blocks: Array<Building | undefined>
}

export const initialState = (request: CompletionRequest): StreamState => ({
  model: request.model,
  usage: undefined,
  stopReason: null,
  blocks: []
})

const Index = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

const StartEvent = Schema.Struct({ message: Schema.Struct({ model: Schema.String, usage: ApiUsage }) })
const decodeStart = Schema.decodeUnknownEither(StartEvent)

/** A block's start: its index and kind; the kinds fleetguard carries are then decoded whole. */
const decodeBlockHead = Schema.decodeUnknownEither(
  Schema.Struct({ index: Index, content_block: Schema.Struct({ type: Schema.String }) })
)

/** A carried block's start: text and thinking may open with some of their text; a tool's input comes in deltas. */
const decodeBlockStart = Schema.decodeUnknownEither(
  Schema.Struct({
    index: Index,
    content_block: Schema.Union(
      Schema.Struct({ type: Schema.Literal("text"), text: Schema.String }),
      Schema.Struct({ type: Schema.Literal("tool_use"), id: Schema.String, name: Schema.String }),
      Schema.Struct({
        type: Schema.Literal("thinking"),
        thinking: Schema.String,
        signature: Schema.optional(Schema.String)
      }),
      Schema.Struct({ type: Schema.Literal("redacted_thinking"), data: Schema.String })
    )
  })
)
type BlockStart = Either.Either.Right<ReturnType<typeof decodeBlockStart>>

const deltaEvent = <A>(delta: Schema.Schema<A>) => Schema.decodeUnknownEither(Schema.Struct({ index: Index, delta }))
const decodeTextDelta = deltaEvent(Schema.Struct({ text: Schema.String }))
const decodeJsonDelta = deltaEvent(Schema.Struct({ partial_json: Schema.String }))
const decodeThinkingDelta = deltaEvent(Schema.Struct({ thinking: Schema.String }))
const decodeSignatureDelta = deltaEvent(Schema.Struct({ signature: Schema.String }))

const decodeBlockStop = Schema.decodeUnknownEither(Schema.Struct({ index: Index }))

/** message_delta's usage is cumulative; input and cache counts may be absent (then unchanged). */
const DeltaEvent = Schema.Struct({
  delta: Schema.Struct({ stop_reason: Schema.NullOr(Schema.String) }),
  usage: Schema.Struct({
    output_tokens: Count,
    input_tokens: OptionalCount,
    cache_creation_input_tokens: OptionalCount,
    cache_read_input_tokens: OptionalCount
  })
})
const decodeDelta = Schema.decodeUnknownEither(DeltaEvent)

const decodeToolInput = Schema.decodeUnknownEither(ToolInput)

/** A used event with a bad shape: which, and its first problem. */
const malformed = (event: string, error: ParseResult.ParseError, input: unknown): string =>
  `${event}: ${problem(error, input)}`

/** What one event says to emit: nothing, or one event. */
type Out = Either.Either<ProviderStreamEvent | undefined, string>
const nothing: Out = Either.right(undefined)

/** The `type` of an event (or of its delta) when it has one: what says how to decode the rest. */
const typeOf = (u: unknown): unknown => (typeof u === "object" && u !== null && "type" in u ? u.type : undefined)
const deltaTypeOf = (event: unknown): unknown =>
  typeof event === "object" && event !== null && "delta" in event ? typeOf(event.delta) : undefined

/**
 * Folds one raw stream event into `state` and says what to emit. Events with nothing to price or
 * carry (ping, citations, a server tool's blocks, kinds newer than this code) emit nothing; an
 * event that is used but has a bad shape, or comes out of order, is an error: a broken stream is
 * not taken for a short one.
 */
export const onEvent = (state: StreamState, event: unknown): Out => {
  switch (typeOf(event)) {
    case "message_start":
      return messageStart(state, event)
    case "content_block_start":
      return blockStart(state, event)
    case "content_block_delta":
      return onDelta(state, event)
    case "content_block_stop": {
      const e = decodeBlockStop(event)
      return Either.isLeft(e) ? Either.left(malformed("content_block_stop", e.left, event)) : stop(state, e.right.index)
    }
    case "message_delta":
      return messageDelta(state, event)
    case "message_stop":
      return Either.map(completion(state), (c): ProviderStreamEvent => ({ _tag: "Done", completion: c }))
    default:
      return nothing
  }
}

const messageStart = (state: StreamState, event: unknown): Out => {
  const e = decodeStart(event)
  if (Either.isLeft(e)) return Either.left(malformed("message_start", e.left, event))
  state.model = e.right.message.model
  state.usage = toUsage(e.right.message.usage)
  return Either.right({ _tag: "Usage", usage: state.usage, final: false })
}

const messageDelta = (state: StreamState, event: unknown): Out => {
  const e = decodeDelta(event)
  if (Either.isLeft(e)) return Either.left(malformed("message_delta", e.left, event))
  if (state.usage === undefined) return Either.left("message_delta before message_start")
  const { delta, usage } = e.right
  state.stopReason = delta.stop_reason
  state.usage = {
    ...state.usage,
    outputTokens: usage.output_tokens,
    inputTokens: usage.input_tokens ?? state.usage.inputTokens,
    cacheCreationInputTokens: usage.cache_creation_input_tokens ?? state.usage.cacheCreationInputTokens,
    cacheReadInputTokens: usage.cache_read_input_tokens ?? state.usage.cacheReadInputTokens
  }
  return Either.right({ _tag: "Usage", usage: state.usage, final: true })
}

const blockStart = (state: StreamState, event: unknown): Out => {
  const head = decodeBlockHead(event)
  if (Either.isLeft(head)) return Either.left(malformed("content_block_start", head.left, event))
  const { index } = head.right
  if (state.blocks[index] !== undefined) return Either.left(`content_block_start for block ${index} a second time`)
  if (!carried.has(head.right.content_block.type)) {
    state.blocks[index] = { open: true, type: "skipped" }
    return nothing
  }
  const e = decodeBlockStart(event)
  return Either.isLeft(e) ? Either.left(malformed("content_block_start", e.left, event)) : start(state, e.right)
}

const start = (state: StreamState, { index, content_block: block }: BlockStart): Out => {
  switch (block.type) {
    case "text":
      state.blocks[index] = { open: true, type: "text", text: block.text }
      return block.text === "" ? nothing : Either.right({ _tag: "TextDelta", text: block.text })
    case "tool_use":
      state.blocks[index] = { open: true, type: "tool_use", id: block.id, name: block.name, json: "", input: {} }
      return nothing
    case "thinking":
      state.blocks[index] = { open: true, type: "thinking", thinking: block.thinking, signature: block.signature ?? "" }
      return block.thinking === "" ? nothing : Either.right({ _tag: "ThinkingDelta", thinking: block.thinking })
    case "redacted_thinking":
      state.blocks[index] = { open: true, type: "redacted_thinking", data: block.data }
      return nothing
  }
}

/** The open block a delta or a stop names, or why there is none. */
const target = (state: StreamState, index: number, event: string): Building | string => {
  const block = state.blocks[index]
  return block?.open === true ? block : `${event} for block ${index}, which is not open`
}

const misplaced = (delta: string, index: number, block: Building): Out =>
  Either.left(`${delta} for block ${index}, a ${block.type} block`)

/**
 * A delta of kind `name`, decoded and added by `add` to the open block it names. A block
 * fleetguard does not carry takes any delta (a server tool's input streams too), and keeps none.
 */
const deltaTo =
  <D>(
    name: string,
    decode: (u: unknown) => Either.Either<{ readonly index: number; readonly delta: D }, ParseResult.ParseError>,
    add: (block: Exclude<Building, { readonly type: "skipped" }>, delta: D, index: number) => Out
  ) =>
  (state: StreamState, event: unknown): Out => {
    const e = decode(event)
    if (Either.isLeft(e)) return Either.left(malformed(name, e.left, event))
    const { index, delta } = e.right
    const block = target(state, index, name)
    if (typeof block === "string") return Either.left(block)
    return block.type === "skipped" ? nothing : add(block, delta, index)
  }

const textDelta = deltaTo("text_delta", decodeTextDelta, (block, { text }, index): Out => {
  if (block.type !== "text") return misplaced("text_delta", index, block)
  block.text += text
  return Either.right({ _tag: "TextDelta", text })
})

const jsonDelta = deltaTo("input_json_delta", decodeJsonDelta, (block, { partial_json }, index): Out => {
  if (block.type !== "tool_use") return misplaced("input_json_delta", index, block)
  block.json += partial_json
  return Either.right({ _tag: "ToolInputDelta", index, id: block.id, name: block.name, partialJson: partial_json })
})

const thinkingDelta = deltaTo("thinking_delta", decodeThinkingDelta, (block, { thinking }, index): Out => {
  if (block.type !== "thinking") return misplaced("thinking_delta", index, block)
  block.thinking += thinking
  return Either.right({ _tag: "ThinkingDelta", thinking })
})

/** The signature is sent back with the thinking on the next turn; it is not text to show. */
const signatureDelta = deltaTo("signature_delta", decodeSignatureDelta, (block, { signature }, index): Out => {
  if (block.type !== "thinking") return misplaced("signature_delta", index, block)
  block.signature += signature
  return nothing
})

const onDelta = (state: StreamState, event: unknown): Out => {
  switch (deltaTypeOf(event)) {
    case "text_delta":
      return textDelta(state, event)
    case "input_json_delta":
      return jsonDelta(state, event)
    case "thinking_delta":
      return thinkingDelta(state, event)
    case "signature_delta":
      return signatureDelta(state, event)
    // citations_delta (a citation of a text block: nothing to price) and kinds newer than this code.
    default:
      return nothing
  }
}

/** Closes a block; a tool's input is its JSON parsed (none is `{}`), which must be an object. */
const stop = (state: StreamState, index: number): Out => {
  const block = target(state, index, "content_block_stop")
  if (typeof block === "string") return Either.left(block)
  block.open = false
  if (block.type !== "tool_use") return nothing
  const input = parseInput(block.json)
  if (Either.isLeft(input)) return Either.left(`the input of tool_use block ${index} (${block.name}) ${input.left}`)
  block.input = input.right
  return nothing
}

const parseInput = (json: string): Either.Either<unknown, string> => {
  if (json === "") return Either.right({})
  return Either.flatMap(Either.try({ try: (): unknown => JSON.parse(json), catch: () => "is not JSON" }), (parsed) =>
    Either.mapLeft(decodeToolInput(parsed), () => "is not a JSON object")
  )
}

/** The answer at message_stop: every block in index order, each closed. */
const completion = (state: StreamState): Either.Either<ProviderCompletion, string> => {
  if (state.usage === undefined) return Either.left("message_stop before message_start")
  const content: Array<AnswerBlock> = []
  let text = ""
  for (const [index, block] of state.blocks.entries()) {
    if (block === undefined) continue
    if (block.open) return Either.left(`message_stop before content_block_stop for block ${index}`)
    switch (block.type) {
      case "text":
        text += block.text
        content.push({ type: "text", text: block.text })
        break
      case "tool_use":
        content.push({ type: "tool_use", id: block.id, name: block.name, input: block.input })
        break
      case "thinking":
        content.push({ type: "thinking", thinking: block.thinking, signature: block.signature })
        break
      case "redacted_thinking":
        content.push({ type: "redacted_thinking", data: block.data })
        break
    }
  }
  return Either.right({ text, content, model: state.model, stopReason: state.stopReason, usage: state.usage })
}
