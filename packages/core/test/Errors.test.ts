import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import {
  AuthenticationFailed,
  describeValue,
  InvalidAmount,
  InvalidRequest,
  Overloaded,
  ProviderUnavailable,
  RateLimited
} from "../src/index.js"

describe("errors", () => {
  it("provider errors are built from their documented fields alone, each with a message that says what happened", () => {
    const errors = [
      new RateLimited({ retryAfterMillis: 1000 }),
      new Overloaded({}),
      new ProviderUnavailable({}),
      new InvalidRequest({}),
      new AuthenticationFailed({})
    ]
    for (const error of errors) {
      expect(error.message.length).toBeGreaterThan(10)
      expect(String(error)).toContain(error.message)
    }
    expect(new RateLimited({ retryAfterMillis: 1000 }).retryAfterMillis).toBe(1000)
    expect(new AuthenticationFailed({}).status).toBe(401)
    expect(new InvalidRequest({}).errorType).toBe("invalid_request_error")
  })

  it("round-trip through their schema (the journal writes and reads them)", () => {
    const errors = [
      new RateLimited({ retryAfterMillis: 1000, requestId: "req_1" }),
      new ProviderUnavailable({ sent: false }),
      new InvalidRequest({ errorType: "client_error", field: "maxTokens", message: "maxTokens: bad" }),
      new InvalidAmount({ field: "usd", value: "abc", reason: "must be a number" })
    ] as const
    for (const error of errors) {
      const schema = error.constructor as unknown as Schema.Schema<typeof error, unknown>
      const decoded = Schema.decodeUnknownSync(schema)(Schema.encodeSync(schema)(error))
      expect(decoded).toEqual(error)
    }
  })

  it("messages never echo a string, object or array given in the wrong place", () => {
    const secret = "sk-ant-secret-123"
    for (const value of [secret, { key: secret }, [secret], () => secret]) {
      expect(describeValue(value)).not.toContain(secret)
      expect(new InvalidAmount({ field: "usd", value, reason: "must be a number" }).message).not.toContain(secret)
    }
    expect(describeValue(Object.create(null))).toBe("an object")
    expect(describeValue(Symbol("x"))).toBe("a symbol")
    expect(describeValue(Number.NaN)).toBe("NaN")
  })
})
