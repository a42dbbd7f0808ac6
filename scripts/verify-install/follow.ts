/**
 * Does what a page of the docs tells a user to type, as written: the npm, npx and node commands of one
 * section's shell blocks, in order, in a project folder. Only the @fleetguard/* names are replaced, by
 * the tarballs `pnpm -r pack` wrote (nothing is on the registry yet); every other word stays as
 * written. A section's ```json block is the `tsconfig.json` it shows. verify-install.sh runs it from the
 * workspace (with its tsx):
 *
 *   node --import tsx scripts/verify-install/follow.ts DOC SECTION APP TARBALLS [PRINTS]
 *     runs the section's commands in APP; each that runs a program (`node …`, `npx tsx …`) must print PRINTS
 *   node --import tsx scripts/verify-install/follow.ts --example DOC SECTION FILE
 *     writes the section's first TypeScript block to FILE
 */

import { spawnSync } from "node:child_process"
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { commands, fences, parseSpec, section } from "./markdown.js"

/** The tarballs in `dir`, by package name: fleetguard-effect-ai-0.1.0.tgz is @fleetguard/effect-ai's. */
export const packed = (dir: string): ReadonlyMap<string, string> =>
  new Map(
    readdirSync(dir).flatMap((file) => {
      const name = /^fleetguard-(.+)-\d+\.\d+\.\d+[^/]*\.tgz$/.exec(file)?.[1]
      return name === undefined ? [] : [[`@fleetguard/${name}`, join(dir, file)] as const]
    })
  )

/** A command's words with each @fleetguard/* spec replaced by its tarball; every other word as written. */
export const substitute = (
  words: ReadonlyArray<string>,
  tarballs: ReadonlyMap<string, string>
): ReadonlyArray<string> =>
  words.map((word) => {
    if (!word.startsWith("@fleetguard/")) return word
    const tarball = tarballs.get(parseSpec(word).name)
    if (tarball === undefined) throw new Error(`no tarball for ${word}`)
    return tarball
  })

const runsAProgram = ([command, first]: ReadonlyArray<string>) =>
  command === "node" || (command === "npx" && first === "tsx")

// npm as a user runs it, minus the audit, fund and update notices (output only).
const env = { ...process.env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" }

/** Runs the commands of `markdown` in `app`; throws on the first that fails or does not print `prints`. */
export const follow = (markdown: string, app: string, tarballs: ReadonlyMap<string, string>, prints?: string) => {
  const tsconfig = fences(markdown, "json")[0]
  if (tsconfig !== undefined) writeFileSync(join(app, "tsconfig.json"), tsconfig)
  const steps = commands(markdown, ["npm", "npx", "node"])
  if (steps.length === 0) throw new Error("the section has no command to run")
  if (prints !== undefined && !steps.some(runsAProgram)) throw new Error("the section runs no program")
  for (const words of steps) {
    console.log(`$ ${words.join(" ")}`)
    const [command = "", ...args] = substitute(words, tarballs)
    const ran = spawnSync(command, args, { cwd: app, env, encoding: "utf8", timeout: 600_000 })
    process.stdout.write(`${ran.stdout ?? ""}${ran.stderr ?? ""}`)
    if (ran.status !== 0) throw new Error(`\`${words.join(" ")}\` exited ${ran.status ?? ran.signal}`)
    if (prints !== undefined && runsAProgram(words) && !ran.stdout.includes(prints)) {
      throw new Error(`\`${words.join(" ")}\` did not print ${JSON.stringify(prints)}`)
    }
  }
}

const main = ([first = "", ...rest]: ReadonlyArray<string>) => {
  if (first === "--example") {
    const [doc = "", heading = "", file = ""] = rest
    const code = fences(section(readFileSync(doc, "utf8"), heading), "ts")[0]
    if (code === undefined) throw new Error(`${doc}, "${heading}": no TypeScript block`)
    writeFileSync(file, code)
  } else {
    const [heading = "", app = "", tarballs = "", prints] = rest
    follow(section(readFileSync(first, "utf8"), heading), app, packed(tarballs), prints)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2))
