// Reads every tarball `pnpm -r pack` wrote and checks the manifest npm will see: what pnpm's
// publishConfig made of exports and bin, that every target is in the tarball, and the metadata the
// packaging promises (docs/packaging.md). Usage: node check-tarballs.mjs DIR. Exits non-zero on a problem.
import { execFileSync } from "node:child_process"
import { readdirSync } from "node:fs"
import { join } from "node:path"

const dir = process.argv[2]
if (dir === undefined) throw new Error("usage: node check-tarballs.mjs DIR")
const tarballs = readdirSync(dir).filter((name) => name.endsWith(".tgz"))
const problems = []

const leaves = (value, at) =>
  typeof value === "string"
    ? [[at, value]]
    : Object.entries(value).flatMap(([key, inner]) => leaves(inner, [...at, key]))

for (const tarball of tarballs) {
  const path = join(dir, tarball)
  const files = new Set(
    execFileSync("tar", ["-tzf", path], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => line.replace(/^package\//, ""))
  )
  const manifest = JSON.parse(execFileSync("tar", ["-xOzf", path, "package/package.json"], { encoding: "utf8" }))
  const problem = (message) => problems.push(`${tarball}: ${message}`)
  const has = (file) => files.has(file.replace(/^\.\//, ""))

  if (manifest.license !== "MIT" || !has("LICENSE")) problem("license MIT with a LICENSE file")
  if (!has("CHANGELOG.md")) problem("no CHANGELOG.md")
  if (!has("README.md")) problem("no README.md (npm shows it on the package's page)")
  if (typeof manifest.repository?.url !== "string") problem("no repository")
  if (manifest.sideEffects !== false) problem("sideEffects is not false")
  if (manifest.type !== "module") problem('type is not "module"')
  if ("publishConfig" in manifest && Object.keys(manifest.publishConfig).some((key) => key !== "access"))
    problem(`publishConfig was not applied: ${JSON.stringify(manifest.publishConfig)}`)
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (range.startsWith("workspace:")) problem(`${field}.${name} is ${range}`)
    }
  }
  for (const peer of ["effect", "@effect/platform"]) {
    if (manifest.peerDependencies?.[peer] === undefined) problem(`${peer} is not a peer dependency`)
    if (manifest.dependencies?.[peer] !== undefined) problem(`${peer} is a dependency (two copies of Effect)`)
  }

  // exports: "." (and named entries such as @fleetguard/testing's "./contract"), each { types, import },
  // and ./package.json, all in dist/ and in the tarball.
  const exports = manifest.exports ?? {}
  if (exports["."] === undefined) problem('no exports["."]')
  for (const [key, target] of Object.entries(exports)) {
    if (key !== "./package.json" && (target?.types === undefined || target?.import === undefined))
      problem(`exports["${key}"] needs types and import: ${JSON.stringify(target)}`)
  }
  // The contract suites ship as their own entry; what only they need is an optional peer, which npm
  // does not install for every user of the package.
  if (manifest.name === "@fleetguard/testing") {
    if (exports["./contract"] === undefined) problem('no exports["./contract"] (the contract suites)')
    for (const peer of ["vitest", "@effect/vitest"]) {
      if (manifest.peerDependencies?.[peer] === undefined || manifest.peerDependenciesMeta?.[peer]?.optional !== true)
        problem(`${peer} is not an optional peer dependency`)
    }
  }
  for (const [key, target] of leaves(exports, [])) {
    const name = key.join(" → ")
    if (key[0] === "./package.json" && target === "./package.json") continue
    if (key[0].includes("*") || target.includes("*")) problem(`exports ${name}: a pattern exposes internals`)
    if (!target.startsWith("./dist/")) problem(`exports ${name} → ${target}: not built output`)
    if (!has(target)) problem(`exports ${name} → ${target}: not in the tarball`)
    if (key.at(-1) === "types" && !target.endsWith(".d.ts")) problem(`exports ${name} → ${target}: not a .d.ts`)
  }

  // bin: built JavaScript that node runs.
  for (const [command, target] of Object.entries(manifest.bin ?? {})) {
    if (!target.startsWith("./dist/") || !target.endsWith(".js")) problem(`bin ${command} → ${target}: not built`)
    else if (!has(target)) problem(`bin ${command} → ${target}: not in the tarball`)
    else {
      const first = execFileSync("tar", ["-xOzf", path, `package/${target.slice(2)}`], { encoding: "utf8" }).split(
        "\n"
      )[0]
      if (first !== "#!/usr/bin/env node") problem(`bin ${command}: first line is ${JSON.stringify(first)}`)
    }
  }

  // dist: every module has its declarations and source maps; no build state.
  for (const file of files) {
    if (file.endsWith(".tsbuildinfo")) problem(`${file}: build state in the tarball`)
    if (/(^|\/)test\//.test(file) || file.endsWith(".test.ts")) problem(`${file}: a test in the tarball`)
    if (file.startsWith("dist/") && file.endsWith(".js")) {
      const base = file.slice(0, -3)
      for (const sibling of [`${base}.js.map`, `${base}.d.ts`, `${base}.d.ts.map`]) {
        if (!files.has(sibling)) problem(`${sibling} is missing`)
      }
    }
  }
  console.log(`${tarball}: ${files.size} files, ${manifest.name}@${manifest.version}`)
}

if (tarballs.length === 0) problems.push(`no tarball in ${dir}`)
if (problems.length > 0) {
  console.error(problems.map((line) => `✗ ${line}`).join("\n"))
  process.exit(1)
}
