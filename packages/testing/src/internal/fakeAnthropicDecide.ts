/**
 * What FakeAnthropic answers a request, decided once its body is in: the auth check, the route,
 * the request's checks, the answer, the rate-limit window, then the script's fault. Holds the window and the
 * count of POST /v1/messages the script sees as `index`.
 */
import { Either } from "effect"
import * as Answer from "./fakeAnthropicAnswer.js"
import type * as History from "./fakeAnthropicHistory.js"
import type { AnswerScript, FakeCall, Fault, RecordedRequest, Script } from "./fakeAnthropicModel.js"
import * as Protocol from "./fakeAnthropicProtocol.js"
import * as Window from "./fakeAnthropicWindow.js"

export type Endpoint = "messages" | "count_tokens" | "other"

export type Plan =
  | {
      readonly _tag: "Error"
      readonly status: number
      readonly errorType: string
      readonly message: string | undefined
      readonly headers: Readonly<Record<string, string>> | undefined
    }
  | { readonly _tag: "Count"; readonly inputTokens: number }
  | {
      readonly _tag: "Reply"
      readonly request: Protocol.ParsedRequest
      readonly reply: Answer.Reply
      readonly fault: Fault | undefined
    }

export interface Decision {
  readonly plan: Plan
  readonly fault: RecordedRequest["fault"]
  readonly rate: Window.Status
}

export interface Rules {
  readonly apiKey: string
  readonly outputTokens: number
  readonly limits: Window.Settings
  readonly script: Script
  readonly answer: AnswerScript
  readonly toolInput: unknown
}

const error = (
  status: number,
  errorType: string,
  message?: string,
  headers?: Readonly<Record<string, string>>
): Plan => ({ _tag: "Error", status, errorType, message, headers })

/** A decider over `rules`, with its own window and call count. */
export const decider = (rules: Rules, history: History.History) => {
  let window = Window.empty
  let messagesCalls = 0

  const authorized = (headers: Readonly<Record<string, string | undefined>>) =>
    headers.authorization === `Bearer ${rules.apiKey}` || headers["x-api-key"] === rules.apiKey

  // Runs without yielding once a body is in, so window admissions and records share one order.
  return (endpoint: Endpoint, headers: Readonly<Record<string, string>>, body: unknown, now: number): Decision => {
    const call = endpoint === "messages" ? messagesCalls++ : -1
    const peek = () => Window.peek(rules.limits, window, now)
    if (!authorized(headers)) {
      return { plan: error(401, "authentication_error"), fault: "Unauthorized", rate: peek() }
    }
    if (endpoint === "other") return { plan: error(404, "not_found_error", "Not found"), fault: null, rate: peek() }
    const parsed = Protocol.parse(body, endpoint, history.check)
    if (Either.isLeft(parsed)) {
      return { plan: error(400, "invalid_request_error", parsed.left), fault: null, rate: peek() }
    }
    const request = parsed.right
    if (endpoint === "count_tokens") {
      return { plan: { _tag: "Count", inputTokens: request.inputTokens }, fault: null, rate: peek() }
    }
    const fakeCall: FakeCall = {
      index: call,
      elapsedMillis: now - rules.limits.startMillis,
      body,
      stream: request.stream
    }
    const scripted = rules.answer(fakeCall)
    const reply =
      scripted === undefined
        ? Answer.defaultReply(request, rules.outputTokens, rules.toolInput)
        : Answer.scriptedReply(scripted, request)
    const admission = Window.admit(rules.limits, window, now, request.inputTokens + reply.outputTokens)
    window = admission.window
    if (admission._tag === "Rejected") {
      return {
        plan: error(429, "rate_limit_error", undefined, { "retry-after": String(admission.retryAfterSeconds) }),
        fault: "RateLimitWindow",
        rate: admission.status
      }
    }
    const fault = rules.script(fakeCall)
    return { plan: { _tag: "Reply", request, reply, fault }, fault: fault?._tag ?? null, rate: admission.status }
  }
}

export type Decider = ReturnType<typeof decider>
