import { readFileSync } from "node:fs"
import { createServer } from "node:net"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { runBin, spawnBin } from "../support/cli.js"
import { eventually } from "../support/receiver.js"

const bin = "packages/testing/src/bin/fake-anthropic.ts"

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
  it("is @fleetguard/testing's `fake-anthropic` command: the source here, the build in the tarball", () => {
    const manifest = JSON.parse(readFileSync("packages/testing/package.json", "utf8"))
    expect(manifest.bin).toEqual({ "fake-anthropic": "./src/bin/fake-anthropic.ts" })
    expect(manifest.publishConfig.bin).toEqual({ "fake-anthropic": "./dist/bin/fake-anthropic.js" })
    // npx runs the built file with node directly.
    expect(readFileSync(bin, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node")
  })

  it.live(
    "prints its URL and key, answers a request with that key, and stops on SIGINT with status 0",
    () =>
      Effect.gen(function* () {
        const running = yield* spawnBin(bin, ["--port", "0"])
        const banner = yield* eventually(running.stdout, (out) => out.includes("Ctrl-C"), "the banner")
        const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(banner)?.[1]
        const key = /API key: (\S+)/.exec(banner)?.[1]
        expect(url).toBeDefined()
        const response = yield* Effect.promise(() =>
          fetch(`${url}/v1/messages`, {
            method: "POST",
            headers: { "x-api-key": key ?? "", "anthropic-version": "2023-06-01", "content-type": "application/json" },
            body: JSON.stringify({
              model: "claude-haiku-4-5",
              max_tokens: 16,
              messages: [{ role: "user", content: "hi" }]
            })
          }).then(async (r) => ({ status: r.status, body: await r.json() }))
        )
        expect(response).toMatchObject({ status: 200, body: { type: "message", role: "assistant" } })
        running.child.kill("SIGINT")
        expect(yield* running.exited).toBe(0)
      }).pipe(Effect.scoped),
    180_000
  )

  it.scoped(
    "--port on a port in use says so in one line, exit 1",
    () =>
      Effect.gen(function* () {
        const { port } = yield* busyPort
        const { raw: _, ...ran } = yield* runBin(bin, ["--port", String(port)])
        expect(ran).toEqual({
          code: 1,
          stdout: "",
          stderr: `fake-anthropic: port ${port} is already in use; pick another with --port N (0: any free port)\n`
        })
      }),
    180_000
  )
})
