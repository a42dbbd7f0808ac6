import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    // Property tests run many samples; TestClock keeps them fast, this only bounds a hang.
    testTimeout: 60_000
  }
})
