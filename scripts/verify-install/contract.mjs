// Run with plain `node` in the project that installed the packed tarballs: `@fleetguard/testing/contract`
// resolves to built output from the tarball, and loads up to its optional peers (vitest and
// @effect/vitest, which a project installs to run tests; the README's install lines do not). The
// package's main entry needs neither: smoke.mjs imports it without them.
import { strict as assert } from "node:assert"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"

const path = fileURLToPath(import.meta.resolve("@fleetguard/testing/contract"))
assert.match(path, /\/node_modules\/@fleetguard\/testing\/dist\/contract\/index\.js$/)
assert.ok(existsSync(path), `${path} is not in the tarball`)
try {
  const { Contract } = await import("@fleetguard/testing/contract")
  for (const suite of ["budget", "concurrency", "breaker"]) assert.equal(typeof Contract[suite], "function", suite)
  console.log(`@fleetguard/testing/contract → ${path}: Contract.budget, concurrency, breaker`)
} catch (error) {
  const peer = /^Cannot find package '((?:@effect\/)?vitest)'/.exec(error?.message ?? "")?.[1]
  if (error?.code !== "ERR_MODULE_NOT_FOUND" || peer === undefined) throw error
  console.log(`@fleetguard/testing/contract → ${path}, which needs ${peer} (an optional peer, not installed here)`)
}
