// The packages' module graph, read from their sources: no module imports one that imports it
// back, and core's internal layers only look down (policy ← runtime, input ← backend ← memory;
// call and ops over them). Type imports count: a cycle of types is still a design question.
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { root } from "./examples.js"

const sources = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : []
  })

/** The relative imports and re-exports of `file`, resolved to source files. */
const importsOf = (file: string): ReadonlyArray<string> =>
  Array.from(readFileSync(file, "utf8").matchAll(/(?:^|\n)\s*(?:import|export)[^;]*?from\s*"(\.{1,2}\/[^"]+)"/g), (m) =>
    resolve(dirname(file), (m[1] ?? "").replace(/\.js$/, ".ts"))
  )

const cyclesIn = (files: ReadonlyArray<string>): ReadonlyArray<ReadonlyArray<string>> => {
  const graph = new Map(files.map((file) => [file, importsOf(file)]))
  const state = new Map<string, "visiting" | "done">()
  const cycles: Array<ReadonlyArray<string>> = []
  const visit = (file: string, path: ReadonlyArray<string>) => {
    if (state.get(file) === "done") return
    if (state.get(file) === "visiting") {
      cycles.push([...path.slice(path.indexOf(file)), file])
      return
    }
    state.set(file, "visiting")
    for (const next of graph.get(file) ?? []) if (graph.has(next)) visit(next, [...path, file])
    state.set(file, "done")
  }
  for (const file of files) visit(file, [])
  return cycles
}

const packages = readdirSync(join(root, "packages"))
const core = join(root, "packages/core/src")
const layerOf = (file: string) => relative(core, file).split("/").slice(0, 2).join("/")

/** What each of core's internal layers may import, besides itself and effect. */
const allowed: Readonly<Record<string, ReadonlyArray<string>>> = {
  "internal/policy": [],
  "internal/runtime": ["internal/policy"],
  "internal/input": ["internal/policy", "public"],
  "internal/backend": ["internal/policy", "internal/runtime", "public"],
  "internal/memory": ["internal/backend", "internal/input", "internal/policy", "internal/runtime", "public"],
  "internal/call": ["internal/backend", "internal/input", "internal/policy", "internal/runtime", "public"],
  "internal/ops": ["internal/policy", "internal/runtime", "public"]
}

describe("the module graph", () => {
  it.each(packages)("%s: no module imports one that imports it back", (pkg) => {
    const cycles = cyclesIn(sources(join(root, "packages", pkg, "src")))
    expect(cycles.map((cycle) => cycle.map((file) => relative(root, file)).join(" → "))).toEqual([])
  })

  it("core's internal layers import only the layers below them; policy imports nothing of fleetguard", () => {
    const wrong = sources(join(core, "internal")).flatMap((file) => {
      const layer = layerOf(file)
      return importsOf(file)
        .map((target) => (relative(core, target).startsWith("internal/") ? layerOf(target) : "public"))
        .filter((target) => target !== layer && !(allowed[layer] ?? []).includes(target))
        .map((target) => `${relative(root, file)} imports ${target}`)
    })
    expect(wrong).toEqual([])
  })
})
