/**
 * What the docs tell a user to type, read from their markdown: the code blocks of a section, and the
 * npm commands of its shell blocks. The docs' tests check these lines; the install check runs them.
 */

/** The text of the `## heading` section of `markdown` (up to the next `## `), or all of it. */
export const section = (markdown: string, heading?: string): string => {
  if (heading === undefined) return markdown
  const start = markdown.search(new RegExp(`^## ${heading.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*$`, "m"))
  if (start < 0) throw new Error(`no "## ${heading}" section`)
  const body = markdown.slice(markdown.indexOf("\n", start) + 1)
  const end = body.search(/^## /m)
  return end < 0 ? body : body.slice(0, end)
}

/** Every fenced block of `markdown` in language `lang` (```ts, ```sh, ```json), in order. */
export const fences = (markdown: string, lang: string): ReadonlyArray<string> =>
  Array.from(markdown.matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, "gm")), (m) => m[1] ?? "")

/** The commands of a shell block that start with `tool` (npm, npx, node), as words, comments cut. */
export const commands = (markdown: string, tools: ReadonlyArray<string>): ReadonlyArray<ReadonlyArray<string>> =>
  fences(markdown, "sh")
    .flatMap((block) => block.split("\n"))
    .map((line) =>
      line
        .replace(/\s#.*$/, "")
        .trim()
        .split(/\s+/)
    )
    .filter((words) => tools.includes(words[0] ?? ""))

/** The `npm install` (or `npm i`) commands of `markdown`. */
export const installs = (markdown: string): ReadonlyArray<ReadonlyArray<string>> =>
  commands(markdown, ["npm"]).filter((words) => words[1] === "install" || words[1] === "i")

/** The package specs of an install command (`effect@^3.22`, `@fleetguard/core`), without its flags. */
export const specs = (install: ReadonlyArray<string>): ReadonlyArray<string> =>
  install.slice(2).filter((word) => !word.startsWith("-"))

/** A spec's package name and its range (undefined when none is written). */
export const parseSpec = (spec: string): { readonly name: string; readonly range: string | undefined } => {
  const at = spec.indexOf("@", 1)
  return at < 0 ? { name: spec, range: undefined } : { name: spec.slice(0, at), range: spec.slice(at + 1) }
}

/** The packages the TypeScript blocks of `markdown` import (`effect`, `@effect/ai`; no `node:`, no relative path). */
export const imports = (markdown: string): ReadonlySet<string> =>
  new Set(
    fences(markdown, "ts").flatMap((block) =>
      Array.from(block.matchAll(/^import .* from "([^"]+)"/gm), (m) => m[1] ?? "")
        .filter((from) => !from.startsWith("node:") && !from.startsWith("."))
        .map((from) =>
          from
            .split("/")
            .slice(0, from.startsWith("@") ? 2 : 1)
            .join("/")
        )
    )
  )
