// The install check's reading of the docs (scripts/verify-install/follow.ts): the commands it runs are
// the docs' own, with only the @fleetguard/* names replaced by the packed tarballs.

import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { follow, substitute } from "../../scripts/verify-install/follow.js"
import { commands, section } from "../../scripts/verify-install/markdown.js"
import { read } from "./examples.js"

const tarballs = new Map([
  ["@fleetguard/core", "/t/fleetguard-core-0.1.0.tgz"],
  ["@fleetguard/effect-ai", "/t/fleetguard-effect-ai-0.1.0.tgz"]
])

describe("verify-install follows the docs", () => {
  it("puts the tarball in place of each @fleetguard/* spec and leaves every other word as written", () => {
    expect(
      substitute(["npm", "install", "-D", "@fleetguard/core@^0.1", "@fleetguard/effect-ai", "effect@^3.22"], tarballs)
    ).toEqual([
      "npm",
      "install",
      "-D",
      "/t/fleetguard-core-0.1.0.tgz",
      "/t/fleetguard-effect-ai-0.1.0.tgz",
      "effect@^3.22"
    ])
    expect(() => substitute(["npm", "install", "@fleetguard/nope"], tarballs)).toThrow(
      "no tarball for @fleetguard/nope"
    )
  })

  it("runs the README's install lines as written, comments cut", () => {
    expect(commands(section(read("README.md"), "Install"), ["npm", "npx", "node"])).toEqual([
      ["npm", "pkg", "set", "type=module"],
      ["npm", "install", "@fleetguard/core", "effect@^3.22", "@effect/platform@^0.97"],
      ["npm", "install", "@fleetguard/anthropic"],
      ["npm", "install", "-D", "@fleetguard/testing"]
    ])
  })

  it("fails a section whose program does not print what it should, and writes the tsconfig it shows", () => {
    const app = mkdtempSync(join(tmpdir(), "fleetguard-follow-"))
    try {
      const page = (code: string) =>
        ['```json\n{ "compilerOptions": {} }\n```', "```sh", `node -e ${code}   # a comment`, "```", ""].join("\n")
      follow(page("console.log(42)"), app, tarballs, "42")
      expect(JSON.parse(readFileSync(join(app, "tsconfig.json"), "utf8"))).toEqual({ compilerOptions: {} })
      expect(() => follow(page("console.log(41)"), app, tarballs, "42")).toThrow('did not print "42"')
      expect(() => follow(page("process.exit(3)"), app, tarballs)).toThrow("exited 3")
    } finally {
      rmSync(app, { recursive: true, force: true })
    }
  })
})
