import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "runtime/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Workflows run by tests use the host executor unless a test asks for another: with a Docker engine
    // present (as in CI), "auto" would pick Docker and need registry images.
    env: { SKIFF_EXECUTOR: "host" },
  },
});
