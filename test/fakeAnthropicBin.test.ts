import { createServer } from "node:net"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { runBin } from "./cli.js"

/** A port something already listens on, for as long as the scope is open. */
const busyPort = Effect.acquireRelease(
  Effect.async<{ readonly port: number; readonly close: () => void }>((resume) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      resume(
        Effect.succeed({
          port: typeof address === "object" && address !== null ? address.port : 0,
          close: () => server.close()
        })
      )
    })
  }),
  ({ close }) => Effect.sync(close)
)

describe("fake-anthropic, the bin", () => {
  it.scoped(
    "--port on a port in use says so in one line, exit 1",
    () =>
      Effect.gen(function* () {
        const { port } = yield* busyPort
        const ran = yield* runBin("packages/testing/src/bin/fake-anthropic.ts", ["--port", String(port)])
        expect(ran).toEqual({
          code: 1,
          stdout: "",
          stderr: `fake-anthropic: port ${port} is already in use; pick another with --port N (0: any free port)\n`
        })
      }),
    180_000
  )
})
