import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    // Each package's own tests; the root's: test/client (LlmClient and the guards over a provider), test/e2e (CLI, docs).
    include: ["packages/*/test/**/*.test.ts", "test/client/**/*.test.ts", "test/e2e/**/*.test.ts"],
    // Property tests run many samples; TestClock keeps them fast, this only bounds a hang.
    testTimeout: 60_000
  }
})
